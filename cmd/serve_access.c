/* serve_access.c — see serve_access.h.  Secrets come from files, never the
 * command line (which `ps` shows to every user). */
#include "serve_access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "proto/auth.h"
#include "proto/jwt.h"

#define SERVE_SECRET_FILE_MAX (64 * 1024) /* a token or key file, at most */

void serve_access_init(struct serve_access *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->a.origins = (const char *const *)sa->origins;
    sa->a.proxies = sa->proxies;
    sa->a.exempt = sa->exempt;
}

static void serve__wipe(char **p, size_t n)
{
    if (*p)
        OPENSSL_cleanse(*p, n);
    free(*p);
    *p = NULL;
}

void serve_access_free(struct serve_access *sa)
{
    serve__wipe(&sa->token, sa->a.token_len);
    serve__wipe(&sa->pub_token, sa->a.pub_token_len);
    pw_jwt_key_free(sa->jwt);
    for (size_t i = 0; i < sa->a.norigins; i++)
        free(sa->origins[i]);
    memset(sa, 0, sizeof *sa);
}

/* Reads a whole file of at most SERVE_SECRET_FILE_MAX bytes into *out
 * (heap, NUL-terminated), without one trailing LF or CRLF.  `secret`: refuse
 * a file other users may read or write.  0, or -1 with the problem in what. */
static int serve__slurp(const char *path, int secret, char **out, size_t *len, char *what, size_t wsz)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb)) {
        snprintf(what, wsz, "not readable (%s)", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode) || (secret && (sb.st_mode & S_IRWXO))) {
        snprintf(what, wsz, S_ISREG(sb.st_mode) ? "open to every user (mode %04o)" : "not a file",
                 (unsigned)(sb.st_mode & 07777));
        close(fd);
        return -1;
    }
    char *buf = malloc(SERVE_SECRET_FILE_MAX + 1);
    ssize_t n = buf ? read(fd, buf, SERVE_SECRET_FILE_MAX + 1) : -1;
    close(fd);
    if (n < 0 || n > SERVE_SECRET_FILE_MAX) {
        snprintf(what, wsz, n < 0 ? "not readable" : "larger than 64 KiB");
        free(buf);
        return -1;
    }
    if (n && buf[n - 1] == '\n')
        n--;
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = 0;
    *out = buf;
    *len = (size_t)n;
    return 0;
}

#define SERVE_PRIVATE_WANT "a file only its owner and group may use (chmod o= FILE)"

int serve_access_token(struct serve_access *sa, const struct pw_optstate *st, int pub)
{
    char what[128], *t = NULL;
    size_t n = 0;
    if (serve__slurp(st->arg, 1, &t, &n, what, sizeof what))
        return pw_badarg(st, what, SERVE_PRIVATE_WANT);
    if (pw_token_check(t, n)) {
        serve__wipe(&t, n);
        return pw_badarg(st, "not a token (one line)", "%s", pw_strerror(PW_EAUTH_TOKEN));
    }
    char **slot = pub ? &sa->pub_token : &sa->token;
    size_t *lslot = pub ? &sa->a.pub_token_len : &sa->a.token_len;
    serve__wipe(slot, *lslot); /* the last one given counts */
    *slot = t;
    *lslot = n;
    if (pub)
        sa->a.pub_token = t;
    else
        sa->a.token = t;
    return 0;
}

int serve_access_jwt(struct serve_access *sa, const struct pw_optstate *st)
{
    char what[160], *p = NULL;
    size_t n = 0;
    if (serve__slurp(st->arg, 0, &p, &n, what, sizeof what))
        return pw_badarg(st, what, "an HS256 secret, or an RS256/ES256 public key in PEM");
    struct stat sb;
    int pem = strstr(p, "-----BEGIN") != NULL;
    if (!pem && stat(st->arg, &sb) == 0 && (sb.st_mode & S_IRWXO)) {
        /* an HMAC secret signs tokens as well as it checks them */
        snprintf(what, sizeof what, "an HS256 secret open to every user (mode %04o)", (unsigned)(sb.st_mode & 07777));
        serve__wipe(&p, n);
        return pw_badarg(st, what, SERVE_PRIVATE_WANT);
    }
    struct pw_jwt_key *k;
    int rc = pw_jwt_key_new(p, n, &k, what, sizeof what);
    serve__wipe(&p, n);
    if (rc)
        return pw_badarg(st, rc == PW_ENOMEM ? "too much (out of memory)" : what,
                         "an HS256 secret of 32 bytes or more, or a PEM public key (RSA 2048+ or P-256)");
    pw_jwt_key_free(sa->jwt);
    sa->jwt = k;
    sa->a.jwt = k;
    return 0;
}

/* Calls fn on each element of a comma-separated list: 0, or fn's rc. */
static int serve__each(const char *list, int (*fn)(struct serve_access *, const struct pw_optstate *, const char *, size_t),
                       struct serve_access *sa, const struct pw_optstate *st)
{
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        int rc = fn(sa, st, p, n);
        if (rc || !p[n])
            return rc;
        p += n + 1;
    }
}

static int serve__origin(struct serve_access *sa, const struct pw_optstate *st, const char *p, size_t n)
{
    if (pw_origin_pattern_check(p, n))
        return pw_badarg(st, "not a list of origins", "scheme://host[:port] separated by commas, "
                         "a leading *. in host for its subdomains, as https://*.example.com");
    if (sa->a.norigins == SERVE_ACCESS_LIST_MAX)
        return pw_badarg(st, "one too many", "at most %d origins", SERVE_ACCESS_LIST_MAX);
    char *o = strndup(p, n);
    if (!o)
        return pw_badarg(st, "too much", "less (out of memory)");
    sa->origins[sa->a.norigins++] = o;
    return 0;
}

int serve_access_origins(struct serve_access *sa, const struct pw_optstate *st)
{
    return serve__each(st->arg, serve__origin, sa, st);
}

static int serve__cidr(struct serve_access *sa, const struct pw_optstate *st, const char *p, size_t n, int exempt)
{
    struct pw_cidr *tab = exempt ? sa->exempt : sa->proxies;
    size_t *count = exempt ? &sa->a.nexempt : &sa->a.nproxies;
    if (*count == SERVE_ACCESS_LIST_MAX)
        return pw_badarg(st, "one too many", "at most %d address blocks", SERVE_ACCESS_LIST_MAX);
    if (pw_cidr_parse(p, n, &tab[*count]))
        return pw_badarg(st, "not a list of addresses", "addresses or CIDR blocks (10.0.0.0/8, 2001:db8::/32) "
                         "separated by commas%s", exempt ? ", or none" : "");
    (*count)++;
    return 0;
}

static int serve__proxy(struct serve_access *sa, const struct pw_optstate *st, const char *p, size_t n)
{
    return serve__cidr(sa, st, p, n, 0);
}

static int serve__exempt(struct serve_access *sa, const struct pw_optstate *st, const char *p, size_t n)
{
    return serve__cidr(sa, st, p, n, 1);
}

int serve_access_cidrs(struct serve_access *sa, const struct pw_optstate *st, int exempt)
{
    if (exempt && strcmp(st->arg, "none") == 0) {
        sa->a.nexempt = 0;
        return 0;
    }
    return serve__each(st->arg, exempt ? serve__exempt : serve__proxy, sa, st);
}

int serve_access_finish(struct serve_access *sa)
{
    if (sa->a.jwt_aud && !sa->jwt) {
        pw_err("serve", "--jwt-aud needs --jwt-key");
        return PW_EXIT_USAGE;
    }
    if (sa->token && sa->pub_token && pw_token_eq(sa->token, sa->a.token_len, sa->pub_token, sa->a.pub_token_len)) {
        pw_err("serve", "--token-file and --publish-token-file hold the same token: "
                        "everyone who may subscribe could publish; use two tokens");
        return PW_EXIT_USAGE;
    }
    return 0;
}
