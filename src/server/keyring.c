/* keyring.c — see keyring.h. */
#include "keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "proto/auth.h"

#define KR_PRIVATE_WANT "a file only its owner and group may use (chmod o= FILE)"
#define KR_TOKEN_WANT "one token a line (RFC 6750 b64token: A-Z a-z 0-9 - . _ ~ + / then any '='), " \
                      "# comments and blank lines"
#define KR_KEY_WANT "an HS256 secret of 32 bytes or more, or a PEM public key (RSA 2048+ or P-256)"
#define KR_KEYFILE_WANT "an HS256 secret, or an RS256/ES256 public key in PEM"

static const char *const kr__opt[] = {"", "--token-file", "--publish-token-file", "--jwt-key"};

void pw_keyring_init(struct pw_keyring *kr)
{
    memset(kr, 0, sizeof *kr);
    pthread_mutex_init(&kr->mu, NULL);
}

void pw_keyring_free(struct pw_keyring *kr)
{
    pw_keyset_unref(kr->cur);
    pthread_mutex_destroy(&kr->mu);
    memset(kr, 0, sizeof *kr);
}

static void kr__free(struct pw_keyset *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        pw_jwt_key_free(ks->c[i].key);
    OPENSSL_cleanse(ks, sizeof *ks);
    free(ks);
}

struct pw_keyset *pw_keyset_new(void)
{
    struct pw_keyset *ks = calloc(1, sizeof *ks);
    if (ks)
        ks->refs = 1;
    return ks;
}

struct pw_keyset *pw_keyset_ref(struct pw_keyset *ks)
{
    if (ks)
        __atomic_add_fetch(&ks->refs, 1, __ATOMIC_RELAXED);
    return ks;
}

void pw_keyset_unref(struct pw_keyset *ks)
{
    if (ks && __atomic_sub_fetch(&ks->refs, 1, __ATOMIC_ACQ_REL) == 0)
        kr__free(ks);
}

/* ---- reading files ---- */

/* Reads a whole file of at most PW_KR_FILE_MAX bytes into buf (heap,
 * NUL-terminated), and *mode, the mode of the file read (fstat on the fd
 * read: the path may name another file by now).  `secret`: refuse a file
 * other users may read or write.  0, or -1 with why->what. */
static int kr__slurp(const char *path, int secret, char **out, size_t *len, mode_t *mode, struct pw_kr_why *why)
{
    /* O_NONBLOCK: a FIFO (or a device) put at the path must not block the
     * loop, and the mutex every worker's SIGHUP takes, until a writer comes;
     * it is refused below as not a file */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) {
        snprintf(why->what, sizeof why->what, "not readable (%s)", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode) || (secret && (sb.st_mode & S_IRWXO))) {
        snprintf(why->what, sizeof why->what, S_ISREG(sb.st_mode) ? "open to every user (mode %04o)" : "not a file",
                 (unsigned)(sb.st_mode & 07777));
        if (!S_ISREG(sb.st_mode))
            why->want = "a regular file (not a directory, FIFO or device)";
        close(fd);
        return -1;
    }
    char *buf = malloc(PW_KR_FILE_MAX + 1);
    ssize_t n = buf ? read(fd, buf, PW_KR_FILE_MAX + 1) : -1;
    close(fd);
    if (n < 0 || n > PW_KR_FILE_MAX) {
        snprintf(why->what, sizeof why->what, n < 0 ? "not readable" : "larger than 64 KiB");
        if (buf && n > 0) /* 64 KiB of a file that may be a secret, as kr__wipe does */
            OPENSSL_cleanse(buf, (size_t)n);
        free(buf);
        return -1;
    }
    buf[n] = 0;
    *out = buf;
    *len = (size_t)n;
    *mode = sb.st_mode;
    return 0;
}

static void kr__wipe(char *p, size_t n)
{
    if (p)
        OPENSSL_cleanse(p, n);
    free(p);
}

static int kr__tokens(const char *p, size_t n, enum pw_kr_kind kind, struct pw_keyset *ks, struct pw_kr_why *why)
{
    size_t had = ks->n, found = 0, line = 0;
    why->want = KR_TOKEN_WANT;
    for (size_t at = 0; at < n;) {
        const char *nl = memchr(p + at, '\n', n - at);
        size_t end = nl ? (size_t)(nl - p) : n, len = end - at;
        const char *t = p + at;
        at = end + 1;
        line++;
        if (len && t[len - 1] == '\r')
            len--;
        if (len == 0 || t[0] == '#')
            continue;
        if (len > PW_TOKEN_MAX) {
            snprintf(why->what, sizeof why->what, "a file whose line %zu is longer than %d bytes", line, PW_TOKEN_MAX);
            goto bad;
        }
        if (pw_token_check(t, len)) {
            snprintf(why->what, sizeof why->what, "a file whose line %zu is not a token", line);
            goto bad;
        }
        if (found == PW_KR_TOKENS_MAX || ks->n == PW_KR_CREDS_MAX) {
            snprintf(why->what, sizeof why->what, "a file of more than %d tokens (line %zu)", PW_KR_TOKENS_MAX, line);
            goto bad;
        }
        struct pw_kr_cred *c = &ks->c[ks->n++];
        c->kind = (uint8_t)kind;
        SHA256((const unsigned char *)t, len, c->digest);
        found++;
    }
    if (found)
        return 0;
    snprintf(why->what, sizeof why->what, "a file holding no token");
bad:
    while (ks->n > had)
        OPENSSL_cleanse(&ks->c[--ks->n], sizeof ks->c[0]);
    return -1;
}

static int kr__key(mode_t mode, const char *p, size_t n, struct pw_keyset *ks, struct pw_kr_why *why)
{
    why->want = KR_KEY_WANT;
    /* one trailing LF or CRLF is not part of the key */
    if (n && p[n - 1] == '\n')
        n--;
    if (n && p[n - 1] == '\r')
        n--;
    if (!memmem(p, n, "-----BEGIN", 10) && (mode & S_IRWXO)) {
        /* an HMAC secret signs tokens as well as it checks them */
        snprintf(why->what, sizeof why->what, "an HS256 secret open to every user (mode %04o)",
                 (unsigned)(mode & 07777));
        why->want = KR_PRIVATE_WANT;
        return -1;
    }
    if (ks->n == PW_KR_CREDS_MAX) {
        snprintf(why->what, sizeof why->what, "one key too many");
        return -1;
    }
    struct pw_jwt_key *k;
    int rc = pw_jwt_key_new(p, n, &k, why->what, sizeof why->what);
    if (rc)
        return rc == PW_ENOMEM ? rc : -1;
    struct pw_kr_cred *c = &ks->c[ks->n];
    if (pw_jwt_key_id(k, c->digest)) {
        pw_jwt_key_free(k);
        return PW_ENOMEM;
    }
    c->kind = PW_KR_JWT;
    c->key = k;
    ks->n++;
    return 0;
}

int pw_keyring_read(const char *path, enum pw_kr_kind kind, struct pw_keyset *ks, struct pw_kr_why *why)
{
    char *p = NULL;
    size_t n = 0;
    mode_t mode = 0;
    why->what[0] = 0;
    why->want = kind == PW_KR_JWT ? KR_KEYFILE_WANT : KR_PRIVATE_WANT;
    if (kind == PW_KR_JWT && ks->nkeys == PW_KR_KEYS_MAX) {
        snprintf(why->what, sizeof why->what, "one key too many");
        why->want = "at most 8 --jwt-key";
        return -1;
    }
    if (kr__slurp(path, kind != PW_KR_JWT, &p, &n, &mode, why))
        return -1;
    int rc = kind == PW_KR_JWT ? kr__key(mode, p, n, ks, why) : kr__tokens(p, n, kind, ks, why);
    kr__wipe(p, n);
    if (rc == 0) {
        size_t *count = kind == PW_KR_SUB ? &ks->nsub : kind == PW_KR_PUB ? &ks->npub : &ks->nkeys;
        *count = 0;
        for (size_t i = 0; i < ks->n; i++)
            *count += ks->c[i].kind == kind;
    }
    return rc;
}

_Static_assert(PW_KR_KEYS_MAX == 8, "the want text of one key too many");

int pw_keyring_file(struct pw_keyring *kr, enum pw_kr_kind kind, const char *path)
{
    if (kind == PW_KR_SUB)
        kr->token_file = path;
    else if (kind == PW_KR_PUB)
        kr->pub_file = path;
    else if (kr->njwt == PW_KR_KEYS_MAX)
        return -1;
    else
        kr->jwt_files[kr->njwt++] = path;
    return 0;
}

int pw_keyring_load(const struct pw_keyring *kr, struct pw_keyset **out, char *err, size_t errsz)
{
    *out = NULL;
    struct pw_keyset *ks = pw_keyset_new();
    if (!ks)
        return PW_ENOMEM;
    const char *files[2 + PW_KR_KEYS_MAX];
    enum pw_kr_kind kinds[2 + PW_KR_KEYS_MAX];
    size_t nf = 0;
    if (kr->token_file)
        files[nf] = kr->token_file, kinds[nf++] = PW_KR_SUB;
    if (kr->pub_file)
        files[nf] = kr->pub_file, kinds[nf++] = PW_KR_PUB;
    for (size_t i = 0; i < kr->njwt; i++)
        files[nf] = kr->jwt_files[i], kinds[nf++] = PW_KR_JWT;
    for (size_t i = 0; i < nf; i++) {
        struct pw_kr_why why;
        int rc = pw_keyring_read(files[i], kinds[i], ks, &why);
        if (rc) {
            if (rc != PW_ENOMEM)
                snprintf(err, errsz, "%s '%s' is %s; want %s", kr__opt[kinds[i]], files[i], why.what, why.want);
            kr__free(ks);
            return rc;
        }
    }
    for (size_t i = 0; i < ks->nsub; i++) {
        struct pw_kr_cred probe = ks->c[i];
        probe.kind = PW_KR_PUB;
        if (pw_keyset_find(ks, &probe) >= 0) {
            snprintf(err, errsz, "--token-file and --publish-token-file hold the same token: "
                                 "everyone who may subscribe could publish; use two tokens");
            OPENSSL_cleanse(&probe, sizeof probe);
            kr__free(ks);
            return -1;
        }
        OPENSSL_cleanse(&probe, sizeof probe);
    }
    *out = ks;
    return 0;
}

int pw_keyring_start(struct pw_keyring *kr, char *err, size_t errsz)
{
    struct pw_keyset *ks;
    int rc = pw_keyring_load(kr, &ks, err, errsz);
    if (rc == PW_ENOMEM)
        snprintf(err, errsz, "out of memory");
    if (rc)
        return rc;
    pthread_mutex_lock(&kr->mu);
    pw_keyset_unref(kr->cur);
    kr->cur = ks;
    pthread_mutex_unlock(&kr->mu);
    return 0;
}

struct pw_keyset *pw_keyring_get(struct pw_keyring *kr)
{
    pthread_mutex_lock(&kr->mu);
    struct pw_keyset *ks = pw_keyset_ref(kr->cur);
    pthread_mutex_unlock(&kr->mu);
    return ks;
}

int pw_keyring_hup(struct pw_keyring *kr, uint64_t *seen, struct pw_keyset **out, char *err, size_t errsz)
{
    int loaded = 0;
    err[0] = 0;
    (*seen)++;
    pthread_mutex_lock(&kr->mu);
    if (kr->hups < *seen) {
        /* the first worker to see this SIGHUP: the others take what it made */
        kr->hups = *seen;
        loaded = 1;
        struct pw_keyset *ks;
        int rc = pw_keyring_load(kr, &ks, err, errsz);
        if (rc == PW_ENOMEM)
            snprintf(err, errsz, "out of memory");
        if (rc == 0) {
            pw_keyset_unref(kr->cur);
            kr->cur = ks;
        }
    }
    *out = pw_keyset_ref(kr->cur);
    pthread_mutex_unlock(&kr->mu);
    return loaded;
}

/* ---- matching ---- */

int pw_keyset_token(const struct pw_keyset *ks, const char *tok, size_t n, enum pw_kr_kind kind)
{
    uint8_t d[PW_KR_DIGEST];
    int found = -1;
    if (!ks || !SHA256((const unsigned char *)tok, n, d))
        return -1;
    for (size_t i = 0; i < ks->n; i++) {
        const struct pw_kr_cred *c = &ks->c[i];
        int want = kind ? c->kind == kind : c->kind != PW_KR_JWT;
        int eq = CRYPTO_memcmp(d, c->digest, sizeof d) == 0;
        if (want & eq)
            found = (int)i;
    }
    OPENSSL_cleanse(d, sizeof d);
    return found;
}

/* How telling an error of pw_jwt_verify is: one after the signature was
 * checked (2) says more than a bad signature or a header a key of the
 * token's algorithm refused (1), which says more than the algorithm (0). */
static int kr__rank(int rc)
{
    switch (rc) {
    case PW_EJWT_ALG: return 0;
    case PW_EJWT_SIG:
    case PW_EJWT_CRIT:
    case PW_EJWT_TYP: return 1;
    default: return 2;
    }
}

int pw_keyset_jwt(const struct pw_keyset *ks, const char *tok, size_t n, double now, const char *aud,
                  struct pw_jwt *out, int *idx)
{
    int best = PW_EJWT_KEY;
    *idx = -1;
    memset(out, 0, sizeof *out);
    for (size_t i = 0; ks && i < ks->n; i++) {
        if (ks->c[i].kind != PW_KR_JWT)
            continue;
        int rc = pw_jwt_verify(ks->c[i].key, tok, n, now, aud, out);
        if (rc == 0)
            *idx = (int)i;
        /* verified, or refused for a reason no other key changes (format,
         * size, memory, or the claims of a token whose signature held) */
        if (rc == 0 || kr__rank(rc) == 2)
            return rc;
        if (best == PW_EJWT_KEY || kr__rank(rc) > kr__rank(best))
            best = rc;
    }
    return best;
}

int pw_keyset_find(const struct pw_keyset *ks, const struct pw_kr_cred *c)
{
    for (size_t i = 0; ks && i < ks->n; i++)
        if (ks->c[i].kind == c->kind && CRYPTO_memcmp(ks->c[i].digest, c->digest, PW_KR_DIGEST) == 0)
            return (int)i;
    return -1;
}
