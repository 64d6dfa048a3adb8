/*
 * util.h: small helpers the daemon's parts share.
 */
#ifndef SUMMONER_UTIL_H
#define SUMMONER_UTIL_H

#include <sys/types.h>

#include <stddef.h>

/*
 * Create dir and its missing parents with mode (existing ones are left as
 * they are).  0, or -1 with errno (ENAMETOOLONG past PATH_MAX).
 */
int mkdir_p(const char *dir, mode_t mode);

/* The value of hex digit c (either case), or -1. */
int hex_digit(char c);

/*
 * Expand a service argument template into out[outlen]: "{service}" is
 * the service's name, "{id}" the instance number, "{instance}" both as
 * "www#3", "{{" and "}}" a literal brace; anything else is copied.  An
 * unknown "{name}" is left as it is (an argument a guest wants verbatim).
 * 0, or -1 if the result does not fit (out is then cut, NUL-terminated).
 */
int expand_arg(const char *tmpl, const char *service, unsigned id, char *out,
    size_t outlen);

/* A placeholder of a command template: "{name}" becomes value.  A NULL
 * value is a placeholder that exists but has no value here (a service
 * without a net device has no "{tap}"): using it is an error. */
struct tmpl_var {
	const char *name;
	const char *value;
};

/*
 * Split the command template tmpl into argv[] the way docs/config.md
 * ("command") describes, without a shell: words are separated by blanks;
 * '...' and "..." group blanks into a word ("" is an empty word); a
 * backslash takes the next byte literally (inside "...", only before "
 * and \; inside '...', never); "{{" and "}}" are literal braces.  Every
 * "{name}" of vars is replaced by its value, which never splits the word
 * it is in; the word {args} on its own becomes the nargs strings of args,
 * one word each, each expanded by expand_arg() for service and id.
 * Anything else in braces is an error.  The words are written to
 * buf[buflen], NUL-separated, and pointed at by argv[0..*argc-1];
 * argv[*argc] is NULL (so at most maxargv - 1 words).  Returns 0, or -1
 * with a one-line reason in err.
 */
int cmd_split(const char *tmpl, const struct tmpl_var *vars, size_t nvars,
    char *const *args, size_t nargs, const char *service, unsigned id,
    char *buf, size_t buflen, char **argv, size_t maxargv, size_t *argc,
    char *err, size_t errlen);

#endif /* SUMMONER_UTIL_H */
