/* srv_auth.h — who may subscribe and publish, and the abuse limits, for the
 * server (pushwire-serve(1) SECURITY, docs/PROTOCOL.md#access): tokens and
 * JWTs, allowed Origins and the CORS answer, the client address behind
 * trusted proxies, connections and new connections per address, publishes
 * per connection.  The decisions are here; the answers (401, 403, 429, close
 * 1008) are written by the transports, with what a struct srv_deny says.
 * The pure parts are proto/auth.c and proto/jwt.c.  Not a public interface.
 *
 * Without pw_server_opts.access every check passes and nothing is counted.
 */
#ifndef PW_SRV_AUTH_H
#define PW_SRV_AUTH_H

#include "srv.h"

/* Why a request is refused, for srv_http.c to answer. */
struct srv_deny {
    int status;                   /* 400, 401, 403, 429, 503 */
    const char *msg, *rule;       /* static; never a token */
    char extra[256];              /* header lines (WWW-Authenticate, Retry-After) */
};

/* What a request on a channel endpoint wants to do. */
enum srv_act {
    SRV_ACT_NONE = 0,             /* not a channel endpoint */
    SRV_ACT_SUBSCRIBE,            /* SSE, long polling */
    SRV_ACT_PUBLISH,              /* POST /pub */
    SRV_ACT_WEBSOCKET,            /* subscribe; publishing is decided per message */
};

/* server.c: the server's state for them (0 or PW_ENOMEM) and its end;
 * every tick (forgets idle addresses now and then). */
int srv_auth_init(struct srv *s);
void srv_auth_free(struct srv *s);
void srv_auth_tick(struct srv *s);
/* server.c: a connection was accepted (its client is its peer, unless the
 * peer is a --trusted-proxy; c->cl allocated when there are access rules:
 * 0 or PW_ENOMEM) / is closing (uncounted). */
int srv_auth_accepted(struct srv_conn *c);
void srv_auth_closed(struct srv_conn *c);
/* srv_http.c: a response is done and the connection waits for the next
 * request; behind a --trusted-proxy it counts for no client until then. */
void srv_auth_idle(struct srv_conn *c);

/* srv_http.c.  Each returns 0 (go on) or the HTTP status with *no filled;
 * a refusal is counted in /metrics.
 * admit: a new connection from a client that is not behind a trusted
 *   proxy: --max-conns-per-ip, --max-conn-rate (429).
 * request: every request head; behind a trusted proxy, who the client is
 *   now (X-Forwarded-For) and, when that changed, admit for it.
 * origin: the request's Origin against --origin (403); remembers what the
 *   CORS answer says (srv_auth_cors).
 * channel: the credentials of a request that acts on channel ch (401, 403,
 *   400 for a token given twice); on success the connection's
 *   cl.no_publish and t_expire say what the token allows and until when,
 *   and cred which credential let it in (for a reload to revoke).
 * metrics: /metrics needs the publish token (or the token) when one is set. */
int srv_auth_admit(struct srv_conn *c, struct srv_deny *no);
int srv_auth_request(struct srv_conn *c, const struct pw_http_req *req, struct srv_deny *no);
int srv_auth_origin(struct srv_conn *c, const struct pw_http_req *req, struct srv_deny *no);
int srv_auth_channel(struct srv_conn *c, const struct pw_http_req *req, enum srv_act act, const char *ch,
                     size_t chlen, struct srv_deny *no);
int srv_auth_metrics_ok(struct srv_conn *c, const struct pw_http_req *req, struct srv_deny *no);
/* The CORS header lines of an answer to c ("Access-Control-Allow-Origin:
 * *", the allowed Origin with "Access-Control-Allow-Credentials: true" and
 * "Vary: Origin", or just the Vary), written
 * into out; returns out. */
const char *srv_auth_cors(const struct srv_conn *c, char *out, size_t outsz);
#define SRV_CORS_MAX (PW_ORIGIN_MAX + 128)

/* srv_http.c, srv_ws.c: a publish by c: 1; 0 when it is over
 * --max-pub-rate (*retry_s, if not NULL, says when to try again); -1 when
 * c is a WebSocket whose credentials do not allow publishing.  Refusals are
 * counted. */
int srv_auth_pub_take(struct srv_conn *c, unsigned *retry_s);
/* A long-lived connection's ops->expire: its token expired, or a reload
 * took it away (c->cred is SRV_CRED_REVOKED).  Counted and logged; returns
 * 1 when revoked, 0 when expired, for the transport to say which as it
 * ends the connection. */
int srv_auth_expired(struct srv_conn *c);
#define SRV_REVOKED_MSG "token revoked" /* the close reason, the revoked event's error */
/* srv_http.c, as a POST's body has come: 1 (counted, logged) when a reload
 * took its token away since its head was let in (answer 401), else 0. */
int srv_auth_revoked(struct srv_conn *c);
/* server.c, on SIGHUP: rereads the token files and JWT keys (keyring.h; the
 * first worker to see the signal reads, logs a reload or an error line, the
 * others take the same set).  Open connections let in by a credential the
 * new set lacks end at once (ops->expire, as at a token's exp). */
void srv_auth_reload(struct srv *s);

/* srv_http.c: the access families of /metrics. */
void srv_auth_metrics(struct srv *s, struct pw_buf *b, const struct srv_counts *t);
/* server.c: this worker's counts of those families, into t. */
void srv_auth_counts(const struct srv *s, struct srv_counts *t);
/* A request target for the log, ?token= redacted (proto/auth.h). */
const char *srv_auth_target(struct pw_str target, char *out, size_t outsz);

#endif
