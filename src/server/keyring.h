/* keyring.h — the secrets behind serve's tokens: the tokens of --token-file
 * and --publish-token-file and the keys of --jwt-key, read from their files
 * under the rules each must meet (pushwire-serve(1) Tokens), as one set.
 * SIGHUP rereads every file into a new set that replaces the old one whole,
 * or not at all.  A set is immutable once made and shared by the workers
 * (refcounted); the server keeps one per worker in force (srv_auth.c).
 * Never prints: every problem comes back as text naming the file.
 *
 * A token file holds one token a line, PW_KR_TOKENS_MAX at most, each an
 * RFC 6750 b64token (auth.h pw_token_check, PW_TOKEN_MAX bytes at most);
 * blank lines and lines starting with '#' are skipped, a CR before the LF
 * is dropped, a file with no token is refused.  A token file, and an HS256
 * key, that other users may read or write is refused (it is a secret).
 * Tokens are kept only as their SHA-256 digests: a token is matched by
 * comparing digests in constant time (CRYPTO_memcmp), as pw_token_eq does.
 */
#ifndef PW_KEYRING_H
#define PW_KEYRING_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/jwt.h"

#define PW_KR_TOKENS_MAX 16          /* tokens in one token file */
#define PW_KR_KEYS_MAX 8             /* --jwt-key files */
#define PW_KR_FILE_MAX (64 * 1024)   /* bytes in a token or key file */
#define PW_KR_CREDS_MAX (2 * PW_KR_TOKENS_MAX + PW_KR_KEYS_MAX)
#define PW_KR_DIGEST 32

enum pw_kr_kind { PW_KR_SUB = 1, PW_KR_PUB, PW_KR_JWT };

struct pw_kr_cred {
    uint8_t kind;                    /* enum pw_kr_kind */
    /* SHA-256 of the token, or pw_jwt_key_id of the key: how a token is
     * matched, and how the same credential is known again in the next set */
    uint8_t digest[PW_KR_DIGEST];
    struct pw_jwt_key *key;          /* PW_KR_JWT */
};

/* One set: c[0, nsub) the subscribe tokens, then npub publish tokens, then
 * nkeys JWT keys (in the order of the --jwt-key options). */
struct pw_keyset {
    size_t n, nsub, npub, nkeys;
    struct pw_kr_cred c[PW_KR_CREDS_MAX];
    unsigned refs;                   /* private: __atomic */
};

/* The files, and the set in force.  The caller fills the paths (which must
 * outlive the keyring) through pw_keyring_file. */
struct pw_keyring {
    const char *token_file, *pub_file;      /* NULL: not given */
    const char *jwt_files[PW_KR_KEYS_MAX];
    size_t njwt;
    /* private: the set in force and SIGHUP's reload, once for all workers */
    pthread_mutex_t mu;
    struct pw_keyset *cur;
    uint64_t hups;                   /* the SIGHUPs a reload was done for */
};

/* What pw_keyring_read says about a file that fails. */
struct pw_kr_why {
    char what[160];                  /* "open to every user (mode 0644)", "line 3: …" */
    const char *want;                /* static: what the file should be */
};

void pw_keyring_init(struct pw_keyring *kr);
void pw_keyring_free(struct pw_keyring *kr);

/* Reads one file of `kind` into ks (appending; a partial read is undone):
 * 0, PW_ENOMEM, or -1 with *why filled.  Used at start, per option, and by
 * pw_keyring_load. */
int pw_keyring_read(const char *path, enum pw_kr_kind kind, struct pw_keyset *ks, struct pw_kr_why *why);

/* Records a file (the option's value, kept as is): the last --token-file
 * or --publish-token-file counts; --jwt-key adds one.  0, or -1 when
 * there are already PW_KR_KEYS_MAX keys. */
int pw_keyring_file(struct pw_keyring *kr, enum pw_kr_kind kind, const char *path);

/* Reads every file into a new set (refs 1): 0 and *out, or PW_ENOMEM, or
 * -1 with err saying which file and why ("--token-file 'F': line 3: …"),
 * or that a token is in both token files. */
int pw_keyring_load(const struct pw_keyring *kr, struct pw_keyset **out, char *err, size_t errsz);

/* At start: the first set in force.  0, or as pw_keyring_load. */
int pw_keyring_start(struct pw_keyring *kr, char *err, size_t errsz);

/* The set in force, with a reference (NULL before pw_keyring_start). */
struct pw_keyset *pw_keyring_get(struct pw_keyring *kr);

/* SIGHUP, as one worker sees it: *seen counts the SIGHUPs this worker saw.
 * The first worker to see the n-th one rereads the files and returns 1:
 * err empty when the new set is in force, else why the old one stays.  The
 * others return 0.  Either way *out is the set in force now, with a
 * reference (NULL only when out of memory). */
int pw_keyring_hup(struct pw_keyring *kr, uint64_t *seen, struct pw_keyset **out, char *err, size_t errsz);

/* An empty set (refs 1) to pw_keyring_read into, or NULL. */
struct pw_keyset *pw_keyset_new(void);
struct pw_keyset *pw_keyset_ref(struct pw_keyset *ks);
void pw_keyset_unref(struct pw_keyset *ks);

/* The index in ks->c of the token tok[0..n) among those of `kind` (0: any
 * token), or -1.  Every digest of that kind is compared, in constant time. */
int pw_keyset_token(const struct pw_keyset *ks, const char *tok, size_t n, enum pw_kr_kind kind);

/* Verifies a JWT against every key of ks: 0 with *out (pw_jwt_free it) and
 * *idx the index of the key that verified it, or the most telling error:
 * one found after a key of the token's algorithm checked its signature
 * (expired, audience, claims), else a bad signature, else the algorithm.
 * An HS256 token never meets a public key as its secret (jwt.h). */
int pw_keyset_jwt(const struct pw_keyset *ks, const char *tok, size_t n, double now, const char *aud,
                  struct pw_jwt *out, int *idx);

/* The index in ks->c of the credential c (same kind and digest), or -1. */
int pw_keyset_find(const struct pw_keyset *ks, const struct pw_kr_cred *c);

#endif
