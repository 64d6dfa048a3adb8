/*
 * util.h: small file-system helpers the daemon's parts share.
 */
#ifndef SUMMONER_UTIL_H
#define SUMMONER_UTIL_H

#include <sys/types.h>

/*
 * Create dir and its missing parents with mode (existing ones are left as
 * they are).  0, or -1 with errno (ENAMETOOLONG past PATH_MAX).
 */
int mkdir_p(const char *dir, mode_t mode);

#endif /* SUMMONER_UTIL_H */
