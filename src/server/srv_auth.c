/* srv_auth.c — see srv_auth.h. */
#include "srv_auth.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "keyring.h"
#include "proto/jwt.h"

#define SRV_IPT_IDLE 16384        /* addresses without connections remembered, beyond --max-conns */
#define SRV_SWEEP_TICKS 40        /* ticks (10 s) between forgetting idle addresses */
#define SRV_REALM "pushwire"
#define SRV_AUTH_RULE "docs/PROTOCOL.md#access"
#define SRV_EXPIRE_MAX_MS 0x1p52   /* a token's exp this far ahead (142 000 years) is never reached */
#define SRV_CONNS_RETRY_S 1       /* Retry-After when --max-conns-per-ip is reached */

/* Why something was refused: the reason label of pushwire_refused_total. */
enum srv_why { SRV_WHY_TOKEN, SRV_WHY_SCOPE, SRV_WHY_ORIGIN, SRV_WHY_CONNS, SRV_WHY_RATE, SRV_WHY_PUB, SRV_WHY_N };
static const char *const srv__why_name[SRV_WHY_N] = {"token",        "scope",     "origin",
                                                     "conns_per_ip", "conn_rate", "pub_rate"};

struct srv_auth {
    const struct pw_access *a;
    struct pw_keyset *ks;         /* the tokens and keys in force in this worker; NULL: none */
    uint64_t hups;                /* SIGHUPs seen (pw_keyring_hup) */
    struct pw_iptable ipt;
    unsigned ticks;
    uint64_t refused[SRV_WHY_N];
    uint64_t expired, revoked;
};

int srv_auth_init(struct srv *s)
{
    s->auth = NULL;
    if (!s->o->access)
        return 0;
    struct srv_auth *au = calloc(1, sizeof *au);
    if (!au)
        return PW_ENOMEM;
    uint64_t seed = 0;
    if (RAND_bytes((unsigned char *)&seed, sizeof seed) != 1)
        seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)au;
    au->a = s->o->access;
    if (au->a->keys && !(au->ks = pw_keyring_get(au->a->keys))) {
        free(au);
        return PW_ENOMEM;
    }
    pw_iptable_init(&au->ipt, s->o->max_conns + SRV_IPT_IDLE, seed);
    s->auth = au;
    return 0;
}

void srv_auth_free(struct srv *s)
{
    if (!s->auth)
        return;
    pw_iptable_free(&s->auth->ipt);
    pw_keyset_unref(s->auth->ks);
    free(s->auth);
    s->auth = NULL;
}

/* ---- client addresses and the per-address limits ---- */

/* The table's key: IPv6 clients by their /64 (what one subscriber gets),
 * IPv4 ones by their address. */
static void srv__key(const uint8_t addr[16], uint8_t key[16])
{
    memcpy(key, addr, 16);
    if (!pw_ip_is_v4(addr))
        memset(key + 8, 0, 8);
}

static int srv__limits_on(const struct pw_access *a)
{
    return a->max_conns_per_ip || a->max_conn_rate > 0;
}

static int srv__keep(const struct pw_ipent *e, void *ud)
{
    struct srv *s = ud;
    double r = s->auth->a->max_conn_rate;
    return !pw_bucket_full(&e->rate, r, r, uv_now(s->loop));
}

void srv_auth_tick(struct srv *s)
{
    if (s->auth && ++s->auth->ticks % SRV_SWEEP_TICKS == 0)
        pw_iptable_sweep(&s->auth->ipt, srv__keep, s);
}

static void srv__uncount(struct srv_conn *c)
{
    if (!c->cl || !c->cl->counted)
        return;
    uint8_t key[16];
    srv__key(c->cl->addr, key);
    struct pw_ipent *e = pw_iptable_get(&c->srv->auth->ipt, key, 0);
    if (e && e->conns)
        e->conns--;
    c->cl->counted = 0;
}

static int srv__peer(struct srv_conn *c, uint8_t out[16])
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(c->fd, (struct sockaddr *)&ss, &len))
        return -1;
    memset(out, 0, 16);
    if (ss.ss_family == AF_INET) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6)
        memcpy(out, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    else
        return -1;
    return 0;
}

static void srv__set_client(struct srv_conn *c, const uint8_t addr[16])
{
    const struct pw_access *a = c->srv->auth->a;
    memcpy(c->cl->addr, addr, 16);
    c->cl->limited = !pw_cidr_any(a->exempt, a->nexempt, addr);
}

/* c->cl only for a client the limits apply to or a --trusted-proxy: an
 * exempt one (--limit-exempt, loopback by default) has nothing to keep. */
int srv_auth_accepted(struct srv_conn *c)
{
    if (!c->srv->auth)
        return 0;
    const struct pw_access *a = c->srv->auth->a;
    uint8_t peer[16];
    if (srv__peer(c, peer))
        memset(peer, 0, 16); /* "::": no address to count, but the limits still apply */
    int proxied = pw_cidr_any(a->proxies, a->nproxies, peer);
    if (!proxied && pw_cidr_any(a->exempt, a->nexempt, peer))
        return 0;
    if (!(c->cl = calloc(1, sizeof *c->cl)))
        return PW_ENOMEM;
    srv__set_client(c, peer);
    c->cl->proxied = (uint8_t)proxied;
    return 0;
}

void srv_auth_closed(struct srv_conn *c)
{
    if (c->srv->auth)
        srv__uncount(c);
}

/* A proxy's pooled connection waits for its next request: it is no
 * client's (the next may come from anyone); its last client is kept, so
 * that one's next request on it takes no --max-conn-rate token. */
void srv_auth_idle(struct srv_conn *c)
{
    if (c->srv->auth && c->cl && c->cl->proxied)
        srv__uncount(c);
}

/* Fills *no, counts the refusal, logs it; returns the status. */
__attribute__((format(printf, 6, 7)))
static int srv__deny(struct srv_conn *c, struct srv_deny *no, enum srv_why why, int status, const char *msg,
                     const char *extra_fmt, ...)
{
    no->status = status;
    no->msg = msg;
    no->rule = SRV_AUTH_RULE;
    no->extra[0] = 0;
    if (extra_fmt) {
        va_list ap;
        va_start(ap, extra_fmt);
        vsnprintf(no->extra, sizeof no->extra, extra_fmt, ap);
        va_end(ap);
    }
    c->srv->auth->refused[why]++;
    char who[48];
    uint8_t peer[16] = {0};
    if (!c->cl)
        srv__peer(c, peer);
    pw_ip_format(c->cl ? c->cl->addr : peer, who, sizeof who);
    srv_log(c->srv, c, "reject", status, 0, "%s (client %s)", msg, who);
    return status;
}

/* Counts a new connection of c's client, or refuses it (429); rate: it
 * takes a --max-conn-rate token (not for the next request of the client a
 * proxy's connection carried last). */
static int srv__admit(struct srv_conn *c, struct srv_deny *no, int rate)
{
    struct srv_auth *au = c->srv->auth;
    const struct pw_access *a = au->a;
    if (!c->cl || !c->cl->limited || !srv__limits_on(a))
        return 0;
    uint8_t key[16];
    srv__key(c->cl->addr, key);
    struct pw_ipent *e = pw_iptable_get(&au->ipt, key, 1);
    if (!e) {
        no->status = 503; /* out of memory: the one way a --max-conns-sized table is full */
        no->msg = "too many client addresses";
        no->rule = NULL;
        snprintf(no->extra, sizeof no->extra, "Retry-After: %d\r\n", SRV_CONNS_RETRY_S);
        return no->status;
    }
    unsigned retry = 1;
    if (rate && !pw_bucket_take(&e->rate, a->max_conn_rate, a->max_conn_rate, uv_now(c->srv->loop), &retry))
        return srv__deny(c, no, SRV_WHY_RATE, 429, "too many new connections from this address (--max-conn-rate)",
                         "Retry-After: %u\r\n", retry);
    if (a->max_conns_per_ip && e->conns >= a->max_conns_per_ip)
        return srv__deny(c, no, SRV_WHY_CONNS, 429, "too many connections from this address (--max-conns-per-ip)",
                         "Retry-After: %d\r\n", SRV_CONNS_RETRY_S);
    e->conns++;
    c->cl->counted = 1;
    return 0;
}

int srv_auth_admit(struct srv_conn *c, struct srv_deny *no)
{
    if (!c->srv->auth || (c->cl && c->cl->proxied))
        return 0; /* behind a proxy: at the request, once the client is known */
    return srv__admit(c, no, 1);
}

static int srv__origin_match(struct srv_conn *c, const struct pw_http_req *req);

int srv_auth_request(struct srv_conn *c, const struct pw_http_req *req, struct srv_deny *no)
{
    if (!c->srv->auth || !c->cl || !c->cl->proxied)
        return 0;
    const struct pw_access *a = c->srv->auth->a;
    uint8_t peer[16], client[16];
    if (srv__peer(c, peer))
        return 0;
    /* garbage in X-Forwarded-For: the proxy that passed it is the client */
    pw_xff_client(req->headers, req->nheaders, peer, a->proxies, a->nproxies, client);
    int same = c->cl->proxied == 2 && memcmp(client, c->cl->addr, 16) == 0;
    if (same && c->cl->counted)
        return 0; /* the same client as the last request on this connection */
    srv__uncount(c);
    srv__set_client(c, client);
    c->cl->proxied = 2;
    if (!same) /* --max-pub-rate: per connection and client, not shared by a proxy's clients */
        memset(&c->cl->pub, 0, sizeof c->cl->pub);
    int rc = srv__admit(c, no, !same);
    if (rc) /* refused before srv_auth_origin: its CORS answer still names an allowed Origin */
        srv__origin_match(c, req);
    return rc;
}

/* ---- Origin and CORS ---- */

/* c->u.h.origin: the request's Origin when --origin allows it, else NULL.
 * 1 allowed (or the server has no --origin), 0 no Origin, -1 not allowed. */
static int srv__origin_match(struct srv_conn *c, const struct pw_http_req *req)
{
    free(c->u.h.origin);
    c->u.h.origin = NULL;
    if (!c->srv->auth || !c->srv->auth->a->norigins)
        return 1;
    const struct pw_access *a = c->srv->auth->a;
    int count = 0;
    const struct pw_str *o = pw_http_header_get(req->headers, req->nheaders, "Origin", &count);
    if (!o)
        return 0; /* not a browser: nothing to protect the user from */
    for (size_t i = 0; count == 1 && o->len <= PW_ORIGIN_MAX && i < a->norigins; i++) {
        if (pw_origin_match(a->origins[i], strlen(a->origins[i]), o->p, o->len)) {
            c->u.h.origin = strndup(o->p, o->len); /* NULL: no CORS echo, the browser refuses */
            return 1;
        }
    }
    return -1;
}

int srv_auth_origin(struct srv_conn *c, const struct pw_http_req *req, struct srv_deny *no)
{
    if (srv__origin_match(c, req) >= 0)
        return 0;
    return srv__deny(c, no, SRV_WHY_ORIGIN, 403, "origin not allowed (--origin)", NULL);
}

const char *srv_auth_cors(const struct srv_conn *c, char *out, size_t outsz)
{
    const struct pw_access *a = c->srv->auth ? c->srv->auth->a : NULL;
    if (!a || !a->norigins)
        snprintf(out, outsz, "Access-Control-Allow-Origin: *\r\n");
    else if (c->srv->unread && a->norigins == 1 && !strchr(a->origins[0], '*'))
        /* refused at accept (--max-conns, --max-conns-per-ip, --max-conn-rate):
         * no request was read, so no Origin to check, and the answer is the
         * same for everyone ("full"): the one origin --origin names may read
         * it, with credentials as its other answers */
        snprintf(out, outsz,
                 "Access-Control-Allow-Origin: %s\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n",
                 a->origins[0]);
    else if (c->srv->unread)
        /* several origins, or a pattern: which one asked is not known; any
         * page may read that the server is full, none with credentials
         * (what it says, any page learns by opening a WebSocket) */
        snprintf(out, outsz, "Access-Control-Allow-Origin: *\r\n");
    else if (c->u.h.origin)
        /* an origin of --origin may send credentials (EventSource's
         * withCredentials, fetch's credentials: "include"): without this
         * header the browser refuses the answer (Fetch, CORS check) */
        snprintf(out, outsz,
                 "Access-Control-Allow-Origin: %s\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\n",
                 c->u.h.origin);
    else
        snprintf(out, outsz, "Vary: Origin\r\n");
    return out;
}

/* ---- tokens ---- */

/* The request's bearer token (RFC 6750 §2.1 header or §2.3 query) into
 * buf: 1, 0 when there is none, -1 when it is malformed or too long, -2
 * when it came both ways (§2: at most one). */
static int srv__bearer(const struct pw_http_req *req, char *buf, size_t sz, size_t *len)
{
    const struct pw_str *h = pw_http_header_get(req->headers, req->nheaders, "Authorization", NULL);
    char probe[1];
    int q = pw_http_query_get(req->query, "token", probe, sizeof probe);
    if (h && h->len > 7 && strncasecmp(h->p, "Bearer ", 7) == 0) {
        if (q != -1)
            return -2;
        const char *t = h->p + 7;
        size_t n = h->len - 7;
        while (n && *t == ' ')
            t++, n--;
        if (n >= sz)
            return -1;
        memcpy(buf, t, n);
        buf[n] = 0;
        *len = n;
        return 1;
    }
    if (q == -1)
        return 0;
    q = pw_http_query_get(req->query, "token", buf, sz);
    if (q < 0)
        return -1;
    *len = (size_t)q;
    return 1;
}

static double srv__wallclock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* What a credential allows on one channel. */
struct srv__grant {
    uint8_t sub, pub;
    uint8_t has_exp;
    uint8_t cred;                 /* srv_conn.cred */
    double exp;
};

/* Checks a token that was given: 0 with *g, or the refusal. */
static int srv__check_token(struct srv_conn *c, const char *tok, size_t n, const char *ch, size_t chlen,
                            struct srv__grant *g, struct srv_deny *no)
{
    const struct pw_access *a = c->srv->auth->a;
    const struct pw_keyset *ks = c->srv->auth->ks;
    memset(g, 0, sizeof *g);
    int i = pw_keyset_token(ks, tok, n, 0);
    if (i >= 0) {
        /* a publish token subscribes too; a subscribe token publishes
         * when there is no publish token */
        g->sub = 1;
        g->pub = ks->c[i].kind == PW_KR_PUB || !ks->npub;
        g->cred = (uint8_t)(i + 1);
        return 0;
    }
    if (!ks || !ks->nkeys)
        return srv__deny(c, no, SRV_WHY_TOKEN, 401, "invalid token",
                         "WWW-Authenticate: Bearer realm=\"" SRV_REALM "\", error=\"invalid_token\"\r\n");
    struct pw_jwt j;
    int rc = pw_keyset_jwt(ks, tok, n, srv__wallclock(), a->jwt_aud, &j, &i);
    if (rc) {
        /* the description is one of jwt.h's fixed messages: never the token */
        srv__deny(c, no, SRV_WHY_TOKEN, 401, pw_strerror(rc),
                  "WWW-Authenticate: Bearer realm=\"" SRV_REALM "\", error=\"invalid_token\", "
                  "error_description=\"%s\"\r\n",
                  pw_strerror(rc));
        no->rule = pw_errrule(rc)[0] ? pw_errrule(rc) : SRV_AUTH_RULE;
        return no->status;
    }
    g->sub = (uint8_t)pw_jwt_allows(&j, PW_JWT_SUBSCRIBE, ch, chlen);
    g->pub = (uint8_t)pw_jwt_allows(&j, PW_JWT_PUBLISH, ch, chlen);
    g->has_exp = j.has_exp;
    g->exp = j.exp;
    g->cred = (uint8_t)(i + 1);
    pw_jwt_free(&j);
    return 0;
}

static int srv__no_token(struct srv_conn *c, struct srv_deny *no)
{
    return srv__deny(c, no, SRV_WHY_TOKEN, 401, "a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN",
                     "WWW-Authenticate: Bearer realm=\"" SRV_REALM "\"\r\n");
}

static int srv__bad_request(struct srv_conn *c, int how, struct srv_deny *no)
{
    return srv__deny(c, no, SRV_WHY_TOKEN, how == -2 ? 400 : 401,
                     how == -2 ? "a token in both the Authorization header and ?token= (RFC 6750 §2)"
                               : "malformed token (too long, or a bad %-escape in ?token=)",
                     "WWW-Authenticate: Bearer realm=\"" SRV_REALM "\", error=\"%s\"\r\n",
                     how == -2 ? "invalid_request" : "invalid_token");
}

int srv_auth_channel(struct srv_conn *c, const struct pw_http_req *req, enum srv_act act, const char *ch,
                     size_t chlen, struct srv_deny *no)
{
    c->t_expire = 0;
    c->cred = 0;
    if (!c->srv->auth)
        return 0;
    c->no_publish = 0;
    if (act == SRV_ACT_NONE)
        return 0;
    const struct pw_keyset *ks = c->srv->auth->ks;
    /* a set never loses a kind: a file in use always holds a token */
    int need_sub = ks && (ks->nsub || ks->nkeys), need_pub = need_sub || (ks && ks->npub);
    if (!need_pub)
        return 0; /* no token is asked for anything */
    char tok[PW_JWT_MAX + 1];
    size_t n = 0;
    int have = srv__bearer(req, tok, sizeof tok, &n);
    if (have < 0)
        return srv__bad_request(c, have, no);
    struct srv__grant g = {(uint8_t)!need_sub, (uint8_t)!need_pub, 0, 0, 0};
    if (have && srv__check_token(c, tok, n, ch, chlen, &g, no))
        return no->status;
    int want_pub = act == SRV_ACT_PUBLISH;
    if (want_pub ? !g.pub : !g.sub) {
        if (!have)
            return srv__no_token(c, no);
        return srv__deny(c, no, SRV_WHY_SCOPE, 403,
                         want_pub ? "the token does not allow publishing on this channel"
                                  : "the token does not allow subscribing to this channel",
                         "WWW-Authenticate: Bearer realm=\"" SRV_REALM "\", error=\"insufficient_scope\"\r\n");
    }
    c->no_publish = act == SRV_ACT_WEBSOCKET && !g.pub;
    c->cred = g.cred; /* a POST's too: its body may come after a reload */
    if (g.has_exp && !want_pub) {
        double left_ms = ceil((g.exp - srv__wallclock()) * 1000);
        if (!(left_ms < SRV_EXPIRE_MAX_MS)) /* an exp of 1e20 or 1e400 (inf): past uint64_t ms */
            left_ms = SRV_EXPIRE_MAX_MS;
        c->t_expire = uv_now(c->srv->loop) + (left_ms >= 1 ? (uint64_t)left_ms : 1);
    }
    return 0;
}

int srv_auth_metrics_ok(struct srv_conn *c, const struct pw_http_req *req, struct srv_deny *no)
{
    if (!c->srv->auth)
        return 0;
    const struct pw_keyset *ks = c->srv->auth->ks;
    enum pw_kr_kind want = ks && ks->npub ? PW_KR_PUB : PW_KR_SUB;
    if (!ks || !(ks->npub || ks->nsub))
        return 0;
    char tok[PW_JWT_MAX + 1];
    size_t n = 0;
    int have = srv__bearer(req, tok, sizeof tok, &n);
    if (have < 0)
        return srv__bad_request(c, have, no);
    if (!have)
        return srv__no_token(c, no);
    if (pw_keyset_token(ks, tok, n, want) < 0)
        return srv__deny(c, no, SRV_WHY_TOKEN, 401, "invalid token",
                         "WWW-Authenticate: Bearer realm=\"" SRV_REALM "\", error=\"invalid_token\"\r\n");
    return 0;
}

/* ---- publishes, expiry ---- */

int srv_auth_pub_take(struct srv_conn *c, unsigned *retry_s)
{
    struct srv_auth *au = c->srv->auth;
    if (au && c->no_publish) {
        au->refused[SRV_WHY_SCOPE]++;
        return -1;
    }
    if (!au || !c->cl || !c->cl->limited || au->a->max_pub_rate <= 0)
        return 1;
    double r = au->a->max_pub_rate;
    if (pw_bucket_take(&c->cl->pub, r, r, uv_now(c->srv->loop), retry_s))
        return 1;
    au->refused[SRV_WHY_PUB]++;
    return 0;
}

/* c's credential went in a reload: counted and logged, WHO being what
 * held it ("its", "a publish whose") */
static void srv__revoked(struct srv_conn *c, const char *who, const char *when)
{
    if (c->srv->auth)
        c->srv->auth->revoked++;
    srv_log(c->srv, c, "revoked", 0, 0, "%s token is no longer in the token files or its JWT's key "
                                        "no longer a --jwt-key (SIGHUP)%s", who, when);
}

int srv_auth_expired(struct srv_conn *c)
{
    if (c->cred == SRV_CRED_REVOKED) {
        srv__revoked(c, "its", "");
        return 1;
    }
    if (c->srv->auth)
        c->srv->auth->expired++;
    srv_log(c->srv, c, "expired", 0, 0, "the token's exp has passed");
    return 0;
}

int srv_auth_revoked(struct srv_conn *c)
{
    if (c->cred != SRV_CRED_REVOKED)
        return 0;
    srv__revoked(c, "a publish whose", " while its body came");
    return 1;
}

/* "2 subscribe tokens, 1 publish token, 2 JWT keys (HS256, ES256)": what
 * a set holds, never a secret. */
static void srv__describe(const struct pw_keyring *kr, const struct pw_keyset *ks, char *out, size_t sz)
{
    size_t at = 0;
    out[0] = 0;
#define SRV__ADD(...)                                                                     \
    do {                                                                                 \
        int w_ = snprintf(out + at, sz - at, __VA_ARGS__);                               \
        at = w_ < 0 ? at : (size_t)w_ >= sz - at ? sz - 1 : at + (size_t)w_;             \
    } while (0)
    if (kr->token_file)
        SRV__ADD("%zu subscribe token%s", ks->nsub, ks->nsub == 1 ? "" : "s");
    if (kr->pub_file)
        SRV__ADD("%s%zu publish token%s", at ? ", " : "", ks->npub, ks->npub == 1 ? "" : "s");
    if (ks->nkeys) {
        SRV__ADD("%s%zu JWT key%s (", at ? ", " : "", ks->nkeys, ks->nkeys == 1 ? "" : "s");
        for (size_t i = 0, k = 0; i < ks->n; i++)
            if (ks->c[i].kind == PW_KR_JWT)
                SRV__ADD("%s%s", k++ ? ", " : "", pw_jwt_alg_name(pw_jwt_key_alg(ks->c[i].key)));
        SRV__ADD(")");
    }
#undef SRV__ADD
}

void srv_auth_reload(struct srv *s)
{
    struct srv_auth *au = s->auth;
    if (!au || !au->a->keys)
        return;
    char err[512];
    struct pw_keyset *nw = NULL;
    if (pw_keyring_hup(au->a->keys, &au->hups, &nw, err, sizeof err)) {
        if (err[0]) {
            srv_log(s, NULL, "error", 0, 0, "SIGHUP: %s; keeping the tokens loaded before", err);
        } else if (nw) {
            char what[256];
            srv__describe(au->a->keys, nw, what, sizeof what);
            srv_log(s, NULL, "reload", 0, 0, "SIGHUP: tokens reread: %s", what);
        }
    }
    if (!nw || nw == au->ks) {
        pw_keyset_unref(nw);
        return;
    }
    /* where each credential of the old set is in the new one; a connection
     * whose credential is gone ends as an expired one does, now: left to
     * the next tick, a WebSocket published (and every stream received)
     * for up to 250 ms more with what was revoked.  As the tick does, the
     * next connection is taken first (ops->expire may close this one). */
    uint8_t map[PW_KR_CREDS_MAX + 1] = {0};
    for (size_t i = 0; i < au->ks->n; i++) {
        int j = pw_keyset_find(nw, &au->ks->c[i]);
        map[i + 1] = (uint8_t)(j + 1);
    }
    /* in force before any expire runs: a poll it answers may go on to the
     * next request the client pipelined */
    pw_keyset_unref(au->ks);
    au->ks = nw;
    for (struct srv_conn *c = s->conns.next, *nx; c != &s->conns; c = nx) {
        nx = c->next;
        if (!c->cred || c->cred == SRV_CRED_REVOKED)
            continue;
        uint8_t to = c->cred <= PW_KR_CREDS_MAX ? map[c->cred] : 0;
        if (to)
            c->cred = to;
        else if (c->close_after || c->closing)
            c->cred = 0;
        else {
            /* a stream ends; a request whose body is still coming is
             * refused when it has come (srv_auth_revoked) */
            c->cred = SRV_CRED_REVOKED;
            c->t_expire = 0;
            if (c->ops->expire)
                c->ops->expire(c);
        }
    }
}

/* ---- metrics, logs ---- */

_Static_assert(SRV_WHY_N == SRV_NREFUSED, "srv_counts holds every reason");

void srv_auth_counts(const struct srv *s, struct srv_counts *t)
{
    const struct srv_auth *au = s->auth;
    for (int i = 0; i < SRV_WHY_N; i++)
        t->refused[i] = au ? au->refused[i] : 0;
    t->tokens_expired = au ? au->expired : 0;
    t->tokens_revoked = au ? au->revoked : 0;
    t->client_addrs = au ? au->ipt.count : 0;
    t->addrs_evicted = au ? au->ipt.evicted : 0;
}

/* t: srv_counts (every worker's, with --workers) */
void srv_auth_metrics(struct srv *s, struct pw_buf *b, const struct srv_counts *t)
{
    (void)s;
    pw_buf_printf(b, "# HELP pushwire_refused_total Requests and connections refused by the access rules "
                     "and abuse limits, by reason.\n# TYPE pushwire_refused_total counter\n");
    for (int i = 0; i < SRV_WHY_N; i++)
        pw_buf_printf(b, "pushwire_refused_total{reason=\"%s\"} %llu\n", srv__why_name[i],
                      (unsigned long long)t->refused[i]);
    pw_buf_printf(b,
                  "# HELP pushwire_tokens_expired_total Long-lived connections ended because their token expired.\n"
                  "# TYPE pushwire_tokens_expired_total counter\npushwire_tokens_expired_total %llu\n"
                  "# HELP pushwire_tokens_revoked_total Long-lived connections ended, and publishes refused "
                  "as their body came, because a reload (SIGHUP) took their token or JWT key away.\n"
                  "# TYPE pushwire_tokens_revoked_total counter\npushwire_tokens_revoked_total %llu\n"
                  "# HELP pushwire_client_addresses Client addresses remembered for the per-address limits.\n"
                  "# TYPE pushwire_client_addresses gauge\npushwire_client_addresses %zu\n"
                  "# HELP pushwire_client_addresses_evicted_total Idle addresses forgotten because the table "
                  "was full.\n# TYPE pushwire_client_addresses_evicted_total counter\n"
                  "pushwire_client_addresses_evicted_total %llu\n",
                  (unsigned long long)t->tokens_expired, (unsigned long long)t->tokens_revoked,
                  (size_t)t->client_addrs,
                  (unsigned long long)t->addrs_evicted);
}

const char *srv_auth_target(struct pw_str target, char *out, size_t outsz)
{
    pw_redact_query(target.p, target.len, "token", out, outsz);
    return out;
}
