/* connect_http.h — what the two HTTP transports of `connect` (SSE in
 * connect_sse.c, long polling in connect_poll.c) share: one GET through
 * libcurl on the loop (client/client_http.h), the wire view, the refusal
 * (status and body), network errors and their retries.  Each transport
 * embeds a struct pwc_http first in its state and fills in a kind. */
#ifndef PW_CMD_CONNECT_HTTP_H
#define PW_CMD_CONNECT_HTTP_H

#include "client/client_http.h"
#include "connect.h"

#define PWC_HTTP_ERR_BODY_MAX 65536 /* of a refusal's body, shown on stderr */

/* what the answer turned out to be */
enum pwc_http_mode {
    PWC_HTTP_NONE,    /* no answer yet, or one the kind refused in its head */
    PWC_HTTP_OK,      /* the kind reads the body */
    PWC_HTTP_REFUSED, /* an error status: the body is kept to be shown */
    PWC_HTTP_NOTHING, /* no body to read (SSE 204, poll 304 or 408) */
};

struct pwc_http;

struct pwc_http_kind {
    /* the final answer's head: set x->mode; -1 stops the transfer */
    int (*head)(struct pwc_http *x, struct pw_httpc *h);
    /* body bytes of a PWC_HTTP_OK answer: 0, or -1 to stop (x->err says
     * why when it is a failure) */
    int (*data)(struct pwc_http *x, const uint8_t *p, size_t n);
    /* x->err was set: say so and end the run */
    void (*fail)(struct pwc_http *x, struct pw_httpc *h, int err);
    /* the request is over, and it was not a failure the shared code
     * handles (network error, refusal): the kind goes on or ends */
    void (*done)(struct pwc_http *x, struct pw_httpc *h, int err);
};

struct pwc_http {
    struct pwc *c;
    const struct pwc_http_kind *k;
    struct pw_httpc *h;      /* the request under way, or NULL */
    uv_timer_t t_open;       /* --connect-timeout: no answer yet */
    int mode;                /* enum pwc_http_mode */
    int err;                 /* a failure found while reading */
    struct pw_buf body;      /* a refusal's body, or the kind's (poll) */
    struct pw_buf origin;    /* "Origin: ..." */
    const char *hdrs[PWC_MAX_LIST + 8];
};

void pwc_http_init(struct pwc_http *x, struct pwc *c, const struct pwc_http_kind *k,
                   size_t body_max);
void pwc_http_free(struct pwc_http *x);
/* Starts a GET of url with -H, --origin and `extra` headers (all copied by
 * libcurl); the kind's callbacks follow.  Out of memory ends the run. */
void pwc_http_get(struct pwc_http *x, const char *url, const char *const *extra, size_t nextra);
/* Drops the request under way (no more callbacks). */
void pwc_http_drop(struct pwc_http *x);
/* --count/--until reached or a signal: nothing to close politely over HTTP */
void pwc_http_done(struct pwc *c, unsigned code, const char *reason);

#endif
