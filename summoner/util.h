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

/*
 * Expand a service argument template into out[outlen]: "{service}" is
 * the service's name, "{id}" the instance number, "{instance}" both as
 * "www#3", "{{" and "}}" a literal brace; anything else is copied.  An
 * unknown "{name}" is left as it is (an argument a guest wants verbatim).
 * 0, or -1 if the result does not fit (out is then cut, NUL-terminated).
 */
int expand_arg(const char *tmpl, const char *service, unsigned id, char *out,
    size_t outlen);

#endif /* SUMMONER_UTIL_H */
