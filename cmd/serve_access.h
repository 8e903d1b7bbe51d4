/* serve_access.h — serve's options about who may connect, and its abuse
 * limits, into the server's struct pw_access (see serve_access.c). */
#ifndef PW_SERVE_ACCESS_H
#define PW_SERVE_ACCESS_H

#include "opt.h"
#include "server/keyring.h"
#include "server/server.h"

#define SERVE_ACCESS_LIST_MAX 64 /* origins, proxies, exempt blocks: each at most */

struct serve_access {
    struct pw_access a;           /* what pw_server_run gets; points into this struct */
    struct pw_keyring keys;       /* the token files and JWT keys (a.keys once one is given) */
    char *origins[SERVE_ACCESS_LIST_MAX];
    struct pw_cidr proxies[SERVE_ACCESS_LIST_MAX], exempt[SERVE_ACCESS_LIST_MAX];
};

void serve_access_init(struct serve_access *sa);
void serve_access_free(struct serve_access *sa);
/* One option's value (st->arg), from inside the option loop: 0 or the
 * exit code after pw_badarg has said what is wrong.
 * token: --token-file (pub 0) or --publish-token-file (pub 1): one token a
 *   line (keyring.h); a secret, so refused when other users may read or
 *   write the file.  The last one given counts.
 * jwt: --jwt-key; a PEM public key, or an HMAC secret (refused as above);
 *   repeatable, PW_KR_KEYS_MAX at most.
 * Each file is read and checked here, as it will be at start and on every
 * SIGHUP (serve_access_finish makes the set in force).
 * origins: --origin LIST; proxies: --trusted-proxy LIST; exempt:
 *   --limit-exempt LIST ("none" empties it).  LISTs are comma-separated and
 *   the options repeatable. */
int serve_access_token(struct serve_access *sa, const struct pw_optstate *st, int pub);
int serve_access_jwt(struct serve_access *sa, const struct pw_optstate *st);
int serve_access_origins(struct serve_access *sa, const struct pw_optstate *st);
int serve_access_cidrs(struct serve_access *sa, const struct pw_optstate *st, int exempt);
/* After the loop: checks that need every option (the same token in both
 * token files, --jwt-aud without --jwt-key), and the first set of tokens
 * and keys; 0 or PW_EXIT_USAGE with the message printed. */
int serve_access_finish(struct serve_access *sa);

#endif
