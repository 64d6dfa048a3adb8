/*
 * util.c: small helpers (util.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
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

/* Append len bytes of s to out[*n], keeping room for a NUL in
 * out[outlen]; -1 when they do not all fit (what fits is appended, so
 * that a cut result reads as far as it goes). */
static int
put(char *out, size_t outlen, size_t *n, const char *s, size_t len)
{
	size_t room = outlen - 1 - *n;

	memcpy(out + *n, s, len < room ? len : room);
	*n += len < room ? len : room;
	return len <= room ? 0 : -1;
}

/*
 * The placeholder at p, which starts with '{': the entry of vars it names
 * (its length in *k), or NULL if p is no "{name}" of vars.  One matcher
 * for expand_arg() and cmd_split(), so both read placeholders alike.
 */
static const struct tmpl_var *
var_at(const char *p, const struct tmpl_var *vars, size_t nvars, size_t *k)
{
	size_t i, len;

	for (i = 0; i < nvars; i++) {
		len = strlen(vars[i].name);
		if (strncmp(p + 1, vars[i].name, len) == 0 &&
		    p[len + 1] == '}') {
			*k = len + 2;
			return &vars[i];
		}
	}
	return NULL;
}

int
expand_arg(const char *tmpl, const char *service, unsigned id, char *out,
    size_t outlen)
{
	char num[16], inst[96];
	const struct tmpl_var vars[] = {
	    {"service", service}, {"id", num}, {"instance", inst}};
	const struct tmpl_var *v;
	size_t n = 0, k;
	const char *p;
	int rc = 0;

	if (outlen == 0)
		return -1;
	snprintf(num, sizeof(num), "%u", id);
	snprintf(inst, sizeof(inst), "%s#%u", service, id);
	for (p = tmpl; *p != '\0' && rc == 0; p += k) {
		k = 1;
		if (strncmp(p, "{{", 2) == 0 || strncmp(p, "}}", 2) == 0) {
			k = 2;
			rc = put(out, outlen, &n, p, 1);
		} else if (*p == '{' && (v = var_at(p, vars, 3, &k)) != NULL)
			rc = put(out, outlen, &n, v->value, strlen(v->value));
		else
			rc = put(out, outlen, &n, p, 1); /* unknown: verbatim */
	}
	out[n] = '\0';
	return rc;
}

/* Begin a word at buf[*n]; -1 when argv is full. */
static int
word_start(char *buf, size_t *n, char **argv, size_t maxargv, size_t *argc)
{
	if (*argc + 1 >= maxargv)
		return -1;
	argv[(*argc)++] = buf + *n;
	return 0;
}

int
cmd_split(const char *tmpl, const struct tmpl_var *vars, size_t nvars,
    char *const *args, size_t nargs, const char *service, unsigned id,
    char *buf, size_t buflen, char **argv, size_t maxargv, size_t *argc,
    char *err, size_t errlen)
{
	const struct tmpl_var *v;
	const char *p = tmpl, *e;
	size_t n = 0, k, i;
	char quote;
	bool inword;

	*argc = 0;
	if (buflen == 0 || maxargv == 0) {
		snprintf(err, errlen, "no room for the command");
		return -1;
	}
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		if (strncmp(p, "{args}", 6) == 0 &&
		    (p[6] == '\0' || p[6] == ' ' || p[6] == '\t')) {
			/* The service's arguments: one word each. */
			for (i = 0; i < nargs; i++) {
				if (word_start(buf, &n, argv, maxargv, argc) <
				    0)
					goto toomany;
				if (expand_arg(args[i], service, id, buf + n,
				        buflen - n) < 0)
					goto toolong;
				n += strlen(buf + n) + 1;
			}
			p += 6;
			continue;
		}
		if (word_start(buf, &n, argv, maxargv, argc) < 0)
			goto toomany;
		quote = '\0';
		inword = true;
		while (inword && *p != '\0') {
			k = 1;
			if (quote == '\0' && (*p == ' ' || *p == '\t')) {
				inword = false;
				continue;
			}
			if (quote == '\0' && (*p == '\'' || *p == '"')) {
				quote = *p++;
				continue;
			}
			if (*p == quote) {
				quote = '\0';
				p++;
				continue;
			}
			if (*p == '\\' && quote != '\'' &&
			    (quote == '\0' || p[1] == '"' || p[1] == '\\')) {
				if (p[1] == '\0') {
					snprintf(err, errlen,
					    "a backslash ends the command");
					return -1;
				}
				if (put(buf, buflen, &n, p + 1, 1) < 0)
					goto toolong;
				p += 2;
				continue;
			}
			if (strncmp(p, "{{", 2) == 0 ||
			    strncmp(p, "}}", 2) == 0) {
				if (put(buf, buflen, &n, p, 1) < 0)
					goto toolong;
				p += 2;
				continue;
			}
			if (*p == '{') {
				if (strncmp(p, "{args}", 6) == 0) {
					snprintf(err, errlen,
					    "{args} must be a word of its own");
					return -1;
				}
				if ((v = var_at(p, vars, nvars, &k)) == NULL) {
					e = strchr(p, '}');
					snprintf(err, errlen,
					    "unknown placeholder %.*s (write "
					    "{{ "
					    "for a literal brace)",
					    e != NULL && e - p < 40
					        ? (int)(e - p + 1)
					        : 1,
					    p);
					return -1;
				}
				if (v->value == NULL) {
					snprintf(err, errlen,
					    "{%s} has no value for this "
					    "service",
					    v->name);
					return -1;
				}
				if (put(buf, buflen, &n, v->value,
				        strlen(v->value)) < 0)
					goto toolong;
				p += k;
				continue;
			}
			if (put(buf, buflen, &n, p, 1) < 0)
				goto toolong;
			p++;
		}
		if (quote != '\0') {
			snprintf(err, errlen, "unterminated %c quote", quote);
			return -1;
		}
		/* put() always leaves room for this NUL. */
		buf[n++] = '\0';
	}
	if (*argc == 0) {
		snprintf(err, errlen, "the command is empty");
		return -1;
	}
	argv[*argc] = NULL;
	return 0;
toomany:
	snprintf(err, errlen, "more than %zu words", maxargv - 1);
	return -1;
toolong:
	snprintf(err, errlen, "longer than %zu bytes once expanded", buflen);
	return -1;
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
