/*
 * args.c: dotted-quad addresses and the network arguments of a guest's
 * command line.  No libc beyond mem*: strings are handled by hand.
 */
#include "gn_int.h"

int
gn_parse_ip(const char *str, uint32_t *ip)
{
	uint32_t v = 0;
	int part;

	if (str == NULL)
		return -1;
	for (part = 0; part < 4; part++) {
		unsigned n = 0, digits = 0;

		if (part > 0 && *str++ != '.')
			return -1;
		while (*str >= '0' && *str <= '9' && digits < 4) {
			n = n * 10 + (unsigned)(*str++ - '0');
			digits++;
		}
		/* "010" could mean 8 (inet_aton) or 10: refuse to guess. */
		if (digits == 0 || digits > 3 || n > 255 ||
		    (digits > 1 && str[-(int)digits] == '0'))
			return -1;
		v = v << 8 | n;
	}
	if (*str != '\0')
		return -1;
	if (ip != NULL)
		*ip = v;
	return 0;
}

/* Write n (0..255) in decimal at p; returns the end. */
static char *
put_dec(char *p, unsigned n)
{
	if (n >= 100)
		*p++ = (char)('0' + n / 100);
	if (n >= 10)
		*p++ = (char)('0' + n / 10 % 10);
	*p++ = (char)('0' + n % 10);
	return p;
}

void
gn_format_ip(uint32_t ip, char buf[16])
{
	char *p = buf;
	int i;

	for (i = 3; i >= 0; i--) {
		p = put_dec(p, (ip >> (i * 8)) & 0xff);
		if (i > 0)
			*p++ = '.';
	}
	*p = '\0';
}

/* err = a b c, cut to errlen. */
static void
set_err(char *err, size_t errlen, const char *a, const char *b, const char *c)
{
	const char *parts[3] = {a, b, c};
	size_t n = 0, i;

	if (err == NULL || errlen == 0)
		return;
	for (i = 0; i < 3; i++) {
		const char *s = parts[i];

		while (s != NULL && *s != '\0' && n + 1 < errlen)
			err[n++] = *s++;
	}
	err[n] = '\0';
}

/* "--name=value" or "--name" followed by the value: the value, or NULL if
 * arg is not this option.  *used tells how many arguments it took. */
static const char *
match_opt(char **argv, int i, int argc, const char *name, int *used)
{
	const char *a = argv[i];
	size_t n = 0;

	while (name[n] != '\0' && a[n] == name[n])
		n++;
	if (name[n] != '\0')
		return NULL;
	if (a[n] == '=') {
		*used = 1;
		return a + n + 1;
	}
	if (a[n] != '\0')
		return NULL; /* a longer option's name */
	*used = 2;
	return i + 1 < argc ? argv[i + 1] : "";
}

/* "A.B.C.D/N" */
static int
parse_cidr(const char *v, uint32_t *ip, uint8_t *prefix)
{
	char addr[16];
	size_t n = 0;
	unsigned p = 0;

	while (v[n] != '\0' && v[n] != '/' && n < sizeof(addr) - 1) {
		addr[n] = v[n];
		n++;
	}
	if (v[n] != '/')
		return -1;
	addr[n] = '\0';
	if (gn_parse_ip(addr, ip) != 0)
		return -1;
	v += n + 1;
	if (*v < '0' || *v > '9' || (v[0] == '0' && v[1] != '\0'))
		return -1;
	for (n = 0; v[n] >= '0' && v[n] <= '9' && n < 3; n++)
		p = p * 10 + (unsigned)(v[n] - '0');
	if (v[n] != '\0' || p > 32)
		return -1;
	*prefix = (uint8_t)p;
	return 0;
}

/*
 * One pass over argv: parse the recognised arguments and, if compact,
 * remove them.  The caller parses first and compacts only once all is
 * well, so that a failure leaves argv as it was.
 */
static int
scan_args(int *argc, char **argv, struct gn_config *cfg, bool compact,
    char *err, size_t errlen)
{
	bool have_ip = false;
	int i, out;

	/* argv[0] is the program; the rest are compacted in place. */
	for (i = out = 1; i < *argc;) {
		const char *v;
		int used = 0;

		if ((v = match_opt(argv, i, *argc, "--ipv4", &used)) != NULL) {
			if (parse_cidr(v, &cfg->ip, &cfg->prefix) != 0) {
				set_err(err, errlen,
				    "--ipv4: expected A.B.C.D/N, got \"", v,
				    "\"");
				return -1;
			}
			have_ip = true;
		} else if ((v = match_opt(argv, i, *argc, "--ipv4-gateway",
		                &used)) != NULL) {
			if (gn_parse_ip(v, &cfg->gateway) != 0) {
				set_err(err, errlen,
				    "--ipv4-gateway: expected A.B.C.D, got \"",
				    v, "\"");
				return -1;
			}
		} else {
			if (compact)
				argv[out] = argv[i];
			out++;
			i++;
			continue;
		}
		i += used;
	}
	if (!have_ip) {
		set_err(
		    err, errlen, "no --ipv4=A.B.C.D/N argument", NULL, NULL);
		return -1;
	}
	if (compact && *argc > 0) {
		argv[out] = NULL;
		*argc = out;
	}
	return 0;
}

int
gn_config_args(
    int *argc, char **argv, struct gn_config *cfg, char *err, size_t errlen)
{
	struct gn_config tmp;

	set_err(err, errlen, "", NULL, NULL);
	if (argc == NULL || argv == NULL || cfg == NULL) {
		set_err(err, errlen, "no arguments", NULL, NULL);
		return -1;
	}
	tmp = *cfg;
	tmp.gateway = 0;
	if (scan_args(argc, argv, &tmp, false, err, errlen) != 0)
		return -1;
	scan_args(argc, argv, &tmp, true, err, errlen);
	*cfg = tmp;
	return 0;
}
