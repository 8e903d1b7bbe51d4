/* serve_access.c — see serve_access.h.  Secrets come from files, never the
 * command line (which `ps` shows to every user). */
#include "serve_access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/auth.h"

void serve_access_init(struct serve_access *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->a.origins = (const char *const *)sa->origins;
    sa->a.proxies = sa->proxies;
    sa->a.exempt = sa->exempt;
    pw_keyring_init(&sa->keys);
}

void serve_access_free(struct serve_access *sa)
{
    pw_keyring_free(&sa->keys);
    for (size_t i = 0; i < sa->a.norigins; i++)
        free(sa->origins[i]);
    memset(sa, 0, sizeof *sa);
}

/* Reads st->arg as a file of `kind` alone, to say at once what is wrong
 * with it, and records it: 0 or the exit code. */
static int serve__keyfile(struct serve_access *sa, const struct pw_optstate *st, enum pw_kr_kind kind)
{
    struct pw_keyset *ks = pw_keyset_new();
    if (!ks)
        return pw_badarg(st, "too much", "less (out of memory)");
    struct pw_kr_why why;
    int rc = pw_keyring_read(st->arg, kind, ks, &why);
    pw_keyset_unref(ks);
    if (rc == PW_ENOMEM)
        return pw_badarg(st, "too much (out of memory)", "%s", why.want);
    if (rc)
        return pw_badarg(st, why.what, "%s", why.want);
    if (pw_keyring_file(&sa->keys, kind, st->arg))
        return pw_badarg(st, "one key too many", "at most %d --jwt-key", PW_KR_KEYS_MAX);
    sa->a.keys = &sa->keys;
    return 0;
}

int serve_access_token(struct serve_access *sa, const struct pw_optstate *st, int pub)
{
    return serve__keyfile(sa, st, pub ? PW_KR_PUB : PW_KR_SUB);
}

int serve_access_jwt(struct serve_access *sa, const struct pw_optstate *st)
{
    return serve__keyfile(sa, st, PW_KR_JWT);
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
    if (sa->a.jwt_aud && !sa->keys.njwt) {
        pw_err("serve", "--jwt-aud needs --jwt-key");
        return PW_EXIT_USAGE;
    }
    char err[512];
    if (sa->a.keys && pw_keyring_start(&sa->keys, err, sizeof err)) {
        pw_err("serve", "%s", err);
        return PW_EXIT_USAGE;
    }
    return 0;
}
