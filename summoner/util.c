/*
 * util.c: small helpers (util.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

int
mkdir_p(const char *dir, mode_t mode)
{
	char buf[PATH_MAX], *p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int
expand_arg(const char *tmpl, const char *service, unsigned id, char *out,
    size_t outlen)
{
	size_t n = 0, k;
	char num[16], buf[96];
	const char *p, *val;

	if (outlen == 0)
		return -1;
	for (p = tmpl; *p != '\0'; p += k) {
		val = NULL;
		k = 1;
		if (strncmp(p, "{{", 2) == 0 || strncmp(p, "}}", 2) == 0) {
			k = 2;
			buf[0] = *p;
			buf[1] = '\0';
			val = buf;
		} else if (strncmp(p, "{service}", 9) == 0) {
			k = 9;
			val = service;
		} else if (strncmp(p, "{id}", 4) == 0) {
			k = 4;
			snprintf(num, sizeof(num), "%u", id);
			val = num;
		} else if (strncmp(p, "{instance}", 10) == 0) {
			k = 10;
			snprintf(buf, sizeof(buf), "%s#%u", service, id);
			val = buf;
		}
		if (val == NULL) {
			buf[0] = *p;
			buf[1] = '\0';
			val = buf;
		}
		for (; *val != '\0'; val++) {
			if (n + 1 >= outlen) {
				out[n] = '\0';
				return -1;
			}
			out[n++] = *val;
		}
	}
	out[n] = '\0';
	return 0;
}
