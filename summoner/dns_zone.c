/*
 * dns_zone.c: the compiled zone table.  The daemon's plain description
 * (strings from the config) becomes wire-form names once, so answering a
 * query compares bytes and never parses text.  Names, ancestors of names
 * (the empty non-terminals) and apexes are in hash tables keyed by the
 * case-folded wire name: a lookup costs the same in a zone of ten names
 * or of ten thousand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dns_int.h"

bool
dns_wname_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	if (memcmp(a, b, alen) == 0)
		return true; /* the usual case: both in lower case */
	/* Length octets are at most 63, so folding leaves them alone. */
	for (size_t i = 0; i < alen; i++)
		if (a[i] != b[i] && dns_lower(a[i]) != dns_lower(b[i]))
			return false;
	return true;
}

uint32_t
dns_wname_hash(const uint8_t *w, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ dns_lower(w[i])) * 16777619u;
	return h;
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

static uint32_t
bucket_of(const struct dns_hset *s, uint32_t hash)
{
	return s->bucket == NULL ? DNS_HNONE : s->bucket[hash & s->mask];
}

const struct dns_czone *
dns_zone_find(const struct dns_zones *z, const uint8_t *qname, size_t qlen)
{
	size_t off = 0;

	if (z == NULL)
		return NULL;
	/*
	 * Longest suffix first, so the first hit is the longest apex; only
	 * suffixes as long as some apex are hashed.
	 */
	while (off < qlen) {
		size_t l = qlen - off;

		if (l < 256 && (z->apex_lens[l >> 3] & (1u << (l & 7)))) {
			uint32_t h = dns_wname_hash(qname + off, l);

			for (uint32_t i = bucket_of(&z->apex_set, h);
			     i != DNS_HNONE; i = z->zones[i].next) {
				const struct dns_czone *c = &z->zones[i];

				if (c->apex_hash == h &&
				    dns_wname_eq(c->apex.wire, c->apex.len,
				        qname + off, l))
					return c;
			}
		}
		if (qname[off] == 0)
			break;
		off += (size_t)qname[off] + 1;
	}
	return NULL;
}

const struct dns_cname *
dns_zone_name(const struct dns_czone *zone, const uint8_t *qname, size_t qlen)
{
	uint32_t h = dns_wname_hash(qname, qlen);

	for (uint32_t i = bucket_of(&zone->names_set, h); i != DNS_HNONE;
	     i = zone->names[i].next) {
		const struct dns_cname *n = &zone->names[i];

		if (n->hash == h &&
		    dns_wname_eq(n->name.wire, n->name.len, qname, qlen))
			return n;
	}
	return NULL;
}

bool
dns_zone_has_below(
    const struct dns_czone *zone, const uint8_t *qname, size_t qlen)
{
	uint32_t h = dns_wname_hash(qname, qlen);

	for (uint32_t i = bucket_of(&zone->ents_set, h); i != DNS_HNONE;
	     i = zone->ents[i].next) {
		const struct dns_ent *e = &zone->ents[i];

		if (e->hash == h && dns_wname_eq(e->wire, e->len, qname, qlen))
			return true;
	}
	return false;
}

/* Empty buckets for n entries (a power of two, at least 2n). */
static int
hset_init(struct dns_hset *s, size_t n)
{
	size_t nb = 1;

	while (nb < 2 * n)
		nb <<= 1;
	if (n == 0 || nb > UINT32_MAX / 2) {
		s->bucket = NULL;
		s->mask = 0;
		return n == 0 ? 0 : -1;
	}
	if ((s->bucket = malloc(nb * sizeof(*s->bucket))) == NULL)
		return -1;
	for (size_t i = 0; i < nb; i++)
		s->bucket[i] = DNS_HNONE;
	s->mask = (uint32_t)(nb - 1);
	return 0;
}

/*
 * Index the names; filled from the last so that each chain runs in
 * config order and the first of two equal names wins, as it did when
 * the table was scanned.
 */
static int
index_names(struct dns_czone *c)
{
	if (hset_init(&c->names_set, c->nnames) == -1)
		return -1;
	for (size_t i = c->nnames; i-- > 0;) {
		struct dns_cname *n = &c->names[i];
		uint32_t *b;

		n->hash = dns_wname_hash(n->name.wire, n->name.len);
		b = &c->names_set.bucket[n->hash & c->names_set.mask];
		n->next = *b;
		*b = (uint32_t)i;
	}
	return 0;
}

/* Index every ancestor of a name, down to the apex: the non-terminals. */
static int
index_ents(struct dns_czone *c)
{
	size_t total = 0;

	for (size_t i = 0; i < c->nnames; i++) {
		const struct dns_wname *w = &c->names[i].name;

		for (size_t off = 0; w->len - off > c->apex.len;
		     off += (size_t)w->wire[off] + 1)
			total++;
	}
	if (total == 0)
		return 0;
	if ((c->ents = calloc(total, sizeof(*c->ents))) == NULL ||
	    hset_init(&c->ents_set, total) == -1)
		return -1;
	for (size_t i = 0; i < c->nnames; i++) {
		const struct dns_wname *w = &c->names[i].name;
		size_t off = (size_t)w->wire[0] + 1;

		for (; off < w->len && w->len - off >= c->apex.len;
		     off += (size_t)w->wire[off] + 1) {
			const uint8_t *s = w->wire + off;
			size_t l = w->len - off;
			struct dns_ent *e = &c->ents[c->nents];
			uint32_t *b;

			if (dns_zone_has_below(c, s, l))
				break; /* and so are all its ancestors */
			e->wire = s;
			e->len = l;
			e->hash = dns_wname_hash(s, l);
			b = &c->ents_set.bucket[e->hash & c->ents_set.mask];
			e->next = *b;
			*b = (uint32_t)c->nents++;
		}
	}
	return 0;
}

/*
 * Parse a name into *w; a relative one is taken below origin (may be
 * NULL).  Text is read once, here, with ldns; answering never parses it.
 */
static int
name_wire(struct dns_wname *w, const char *s, const struct dns_wname *origin)
{
	ldns_rdf *r = NULL, *o = NULL;
	int rc = -1;

	if (s == NULL || ldns_str2rdf_dname(&r, s) != LDNS_STATUS_OK)
		goto fail;
	if (origin != NULL && !ldns_dname_str_absolute(s)) {
		o = ldns_rdf_new_frm_data(
		    LDNS_RDF_TYPE_DNAME, origin->len, origin->wire);
		if (o == NULL || ldns_dname_cat(r, o) != LDNS_STATUS_OK)
			goto fail;
	}
	if (ldns_rdf_size(r) > DNS_MAXNAME)
		goto fail;
	w->len = ldns_rdf_size(r);
	memcpy(w->wire, ldns_rdf_data(r), w->len);
	rc = 0;
fail:
	ldns_rdf_deep_free(o);
	ldns_rdf_deep_free(r);
	return rc;
}

static int
compile_name(struct dns_cname *c, const struct dns_name_conf *nc,
    const struct dns_czone *zone)
{
	if (name_wire(&c->name, nc->name, &zone->apex) == -1)
		return -1;
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

	if (zc->apex == NULL || !ldns_dname_str_absolute(zc->apex) ||
	    name_wire(&c->apex, zc->apex, NULL) == -1) {
		bad = zc->apex;
		goto fail;
	}
	if (name_wire(&c->mname, zc->mname, &c->apex) == -1) {
		bad = zc->mname;
		goto fail;
	}
	if (name_wire(&c->rname, zc->rname, &c->apex) == -1) {
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
		if (name_wire(&c->ns[i], zc->ns[i], &c->apex) == -1) {
			bad = zc->ns[i];
			goto fail;
		}
	}
	if (zc->nnames > UINT32_MAX / 4) {
		errno = ENOMEM;
		goto fail;
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
	errno = 0;
	if (index_names(c) == -1 || index_ents(c) == -1) {
		errno = ENOMEM;
		goto fail;
	}
	c->apex_hash = dns_wname_hash(c->apex.wire, c->apex.len);
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
	free(c->ns);
	for (size_t i = 0; i < c->nnames; i++) {
		free(c->names[i].v4);
		free(c->names[i].v6);
	}
	free(c->names);
	free(c->names_set.bucket);
	free(c->ents);
	free(c->ents_set.bucket);
}

/* Index the zones by apex; the first of two equal apexes wins. */
static int
index_zones(struct dns_zones *z)
{
	if (hset_init(&z->apex_set, z->n) == -1)
		return -1;
	for (size_t i = z->n; i-- > 0;) {
		struct dns_czone *c = &z->zones[i];
		uint32_t *b =
		    &z->apex_set.bucket[c->apex_hash & z->apex_set.mask];

		c->next = *b;
		*b = (uint32_t)i;
		z->apex_lens[c->apex.len >> 3] |=
		    (uint8_t)(1u << (c->apex.len & 7));
	}
	return 0;
}

struct dns_zones *
dns_zones_new(
    const struct dns_zone *confs, size_t n, char *errbuf, size_t errlen)
{
	struct dns_zones *z = NULL;

	if (n > UINT32_MAX / 4) {
		errno = ENOMEM;
		goto fail;
	}
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
	if (index_zones(z) == -1) {
		errno = ENOMEM;
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
	free(z->apex_set.bucket);
	free(z);
	errno = saved;
}
