/*
 * registry_ctl.c: the registry's operator actions (registry.h, "for the
 * control socket").  Placeholders until the policy integration lands.
 */
#include <stdio.h>
#include <string.h>

#include "registry.h"

void (*registry_log_tap)(struct svc *s, const struct svc_log_line *l);

static int
notyet(char *err, size_t errlen)
{
	snprintf(err, errlen, "not implemented yet");
	return -1;
}

int
registry_ctl_summon(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	(void)r, (void)name;
	return notyet(err, errlen);
}

int
registry_ctl_stop(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	(void)r, (void)name;
	return notyet(err, errlen);
}

int
registry_ctl_restart(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	(void)r, (void)name;
	return notyet(err, errlen);
}

int
registry_ctl_release(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	(void)r, (void)name;
	return notyet(err, errlen);
}

int
registry_ctl_retire(
    struct registry *r, const char *name, char *err, size_t errlen)
{
	(void)r, (void)name;
	return notyet(err, errlen);
}

struct inst *
registry_find(struct registry *r, const char *name, struct svc **svc)
{
	(void)r, (void)name;
	*svc = NULL;
	return NULL;
}

const struct policy *
registry_policy(const struct svc *s)
{
	(void)s;
	return NULL;
}
