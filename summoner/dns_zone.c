/*
 * dns_zone.c: the compiled zone table.  The daemon's plain description
 * (strings from the config) becomes wire-form names once, so answering a
 * query compares bytes and never parses text.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns_int.h"

bool
dns_wname_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	/* Length octets are at most 63, so tolower() leaves them alone. */
	for (size_t i = 0; i < alen; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return false;
	return true;
}

/* Is the wire name (child, clen) equal to or below (parent, plen)? */
static bool
wname_under(
    const uint8_t *child, size_t clen, const uint8_t *parent, size_t plen)
{
	size_t off = 0;

	while (off < clen) {
		if (clen - off == plen &&
		    dns_wname_eq(child + off, plen, parent, plen))
			return true;
		if (child[off] == 0)
			break;
		off += (size_t)child[off] + 1;
	}
	return false;
}

const struct dns_czone *
dns_zone_find(const struct dns_zones *z, const uint8_t *qname, size_t qlen)
{
	const struct dns_czone *best = NULL;

	for (size_t i = 0; z != NULL && i < z->n; i++) {
		const struct dns_czone *c = &z->zones[i];

		if ((best == NULL || c->apex.len > best->apex.len) &&
		    wname_under(qname, qlen, c->apex.wire, c->apex.len))
			best = c;
	}
	return best;
}

const struct dns_cname *
dns_zone_name(const struct dns_czone *zone, const uint8_t *qname, size_t qlen)
{
	for (size_t i = 0; i < zone->nnames; i++)
		if (dns_wname_eq(zone->names[i].name.wire,
		        zone->names[i].name.len, qname, qlen))
			return &zone->names[i];
	return NULL;
}

bool
dns_zone_has_below(
    const struct dns_czone *zone, const uint8_t *qname, size_t qlen)
{
	for (size_t i = 0; i < zone->nnames; i++) {
		const struct dns_wname *n = &zone->names[i].name;

		if (n->len > qlen && wname_under(n->wire, n->len, qname, qlen))
			return true;
	}
	return false;
}

/* Parse a name; a relative one is taken below origin (may be NULL). */
static ldns_rdf *
name_rdf(const char *s, const ldns_rdf *origin)
{
	ldns_rdf *r = NULL;

	if (s == NULL || ldns_str2rdf_dname(&r, s) != LDNS_STATUS_OK)
		return NULL;
	if (origin != NULL && !ldns_dname_str_absolute(s)) {
		if (ldns_dname_cat(r, origin) != LDNS_STATUS_OK) {
			ldns_rdf_deep_free(r);
			return NULL;
		}
	}
	if (ldns_rdf_size(r) > DNS_MAXNAME) {
		ldns_rdf_deep_free(r);
		return NULL;
	}
	return r;
}

static int
compile_name(struct dns_cname *c, const struct dns_name_conf *nc,
    const struct dns_czone *zone)
{
	ldns_rdf *r = name_rdf(nc->name, zone->apex_rdf);

	if (r == NULL)
		return -1;
	c->name.len = ldns_rdf_size(r);
	memcpy(c->name.wire, ldns_rdf_data(r), c->name.len);
	ldns_rdf_deep_free(r);
	if (!wname_under(
	        c->name.wire, c->name.len, zone->apex.wire, zone->apex.len))
		return -1;
	c->ttl = nc->ttl;
	c->service = nc->service;
	if (nc->addrs.n4 > 0) {
		c->v4 = calloc(nc->addrs.n4, sizeof(*c->v4));
		if (c->v4 == NULL)
			return -1;
		memcpy(c->v4, nc->addrs.v4, nc->addrs.n4 * sizeof(*c->v4));
		c->n4 = nc->addrs.n4;
	}
	if (nc->addrs.n6 > 0) {
		c->v6 = calloc(nc->addrs.n6, sizeof(*c->v6));
		if (c->v6 == NULL)
			return -1;
		memcpy(c->v6, nc->addrs.v6, nc->addrs.n6 * sizeof(*c->v6));
		c->n6 = nc->addrs.n6;
	}
	return 0;
}

static int
compile_zone(
    struct dns_czone *c, const struct dns_zone *zc, char *errbuf, size_t errlen)
{
	const char *bad = NULL;

	c->apex_rdf = name_rdf(zc->apex, NULL);
	if (c->apex_rdf == NULL || !ldns_dname_str_absolute(zc->apex)) {
		bad = zc->apex;
		goto fail;
	}
	c->apex.len = ldns_rdf_size(c->apex_rdf);
	memcpy(c->apex.wire, ldns_rdf_data(c->apex_rdf), c->apex.len);
	if ((c->mname = name_rdf(zc->mname, c->apex_rdf)) == NULL) {
		bad = zc->mname;
		goto fail;
	}
	if ((c->rname = name_rdf(zc->rname, c->apex_rdf)) == NULL) {
		bad = zc->rname;
		goto fail;
	}
	c->serial = zc->serial;
	c->refresh = zc->refresh;
	c->retry = zc->retry;
	c->expire = zc->expire;
	c->minimum = zc->minimum;
	c->ttl = zc->ttl;
	if (zc->nns > 0 && (c->ns = calloc(zc->nns, sizeof(*c->ns))) == NULL)
		goto fail;
	for (size_t i = 0; i < zc->nns; i++, c->nns++) {
		if ((c->ns[i] = name_rdf(zc->ns[i], c->apex_rdf)) == NULL) {
			bad = zc->ns[i];
			goto fail;
		}
	}
	if (zc->nnames > 0 &&
	    (c->names = calloc(zc->nnames, sizeof(*c->names))) == NULL)
		goto fail;
	for (size_t i = 0; i < zc->nnames; i++) {
		c->nnames++;
		if (compile_name(&c->names[i], &zc->names[i], c) == -1) {
			bad = zc->names[i].name;
			goto fail;
		}
	}
	return 0;
fail:
	if (bad != NULL || errno != ENOMEM) {
		errno = EINVAL;
		if (errbuf != NULL)
			snprintf(errbuf, errlen, "zone %s: bad name %s",
			    zc->apex ? zc->apex : "(null)",
			    bad ? bad : "(null)");
	} else if (errbuf != NULL)
		snprintf(errbuf, errlen, "out of memory");
	return -1;
}

static void
free_zone(struct dns_czone *c)
{
	ldns_rdf_deep_free(c->apex_rdf);
	ldns_rdf_deep_free(c->mname);
	ldns_rdf_deep_free(c->rname);
	for (size_t i = 0; i < c->nns; i++)
		ldns_rdf_deep_free(c->ns[i]);
	free(c->ns);
	for (size_t i = 0; i < c->nnames; i++) {
		free(c->names[i].v4);
		free(c->names[i].v6);
	}
	free(c->names);
}

struct dns_zones *
dns_zones_new(
    const struct dns_zone *confs, size_t n, char *errbuf, size_t errlen)
{
	struct dns_zones *z = NULL;

	if ((z = calloc(1, sizeof(*z))) == NULL)
		goto fail;
	if (n > 0 && (z->zones = calloc(n, sizeof(*z->zones))) == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		z->n++;
		errno = 0;
		if (compile_zone(&z->zones[i], &confs[i], errbuf, errlen) == -1)
			goto fail;
	}
	return z;
fail:
	if (errno == ENOMEM && errbuf != NULL)
		snprintf(errbuf, errlen, "out of memory");
	dns_zones_free(z);
	return NULL;
}

void
dns_zones_free(struct dns_zones *z)
{
	int saved = errno;

	if (z == NULL)
		return;
	for (size_t i = 0; i < z->n; i++)
		free_zone(&z->zones[i]);
	free(z->zones);
	free(z);
	errno = saved;
}
