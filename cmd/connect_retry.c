/* connect_retry.c — the one retry scheduler of `connect`, for every
 * transport: what is worth another attempt, how long to wait (exponential
 * backoff with jitter, or the SSE server's retry:), --reconnect[=MAX]. */
#include <string.h>

#include "connect.h"
#include "opt.h"

#define RETRY_BASE_MS 500.0   /* the first delay, when the server named none */
#define RETRY_MAX_MS 30000.0  /* backoff stops doubling here */
#define RETRY_TIMER_MAX_MS 1e12 /* a retry: of centuries would overflow the timer */
#define RETRY_SHOW_ID 200     /* bytes of the resume id in the message */

/* Network trouble and the server's temporary refusals are worth another
 * attempt; a certificate that does not verify, a client certificate that
 * cannot be used, a 4xx, a protocol violation or our own limits are not. */
static int retryable(const struct pwc *c, int err)
{
    switch (err) {
    case 0: /* the stream ended, or the server closed the WebSocket */
    case PW_ECL_RESOLVE:
    case PW_ECL_CONNECT:
    case PW_ECL_PROXY:
    case PW_ECL_ABNORMAL:
    case PW_ECL_IO:
    case PW_ECL_TLS: /* a handshake cut short; a verification failure is not */
    case PW_ECL_TIMEOUT: /* --connect-timeout */
        return 1;
    case PW_ECL_REJECTED:
        return c->res.http_status >= 500 || c->res.http_status == 429;
    default:
        return 0;
    }
}

static double jitter(double lo, double hi)
{
    uint8_t r[2];
    pw_rand_bytes(r, sizeof r);
    return lo + (hi - lo) * ((r[0] << 8 | r[1]) / 65535.0);
}

/* the delay before attempt c->attempts (1-based), in ms */
static double delay_ms(const struct pwc *c)
{
    double d = c->retry_ms > 0 ? c->retry_ms : RETRY_BASE_MS;
    for (long i = 1; i < c->attempts && d < RETRY_MAX_MS; i++)
        d *= 2;
    if (c->retry_ms > 0) {
        /* the server's retry: is the delay; backoff only on repeated
         * failures, and a little spread on top */
        d *= jitter(1, 1.25);
        return d > RETRY_TIMER_MAX_MS ? RETRY_TIMER_MAX_MS : d;
    }
    if (d > RETRY_MAX_MS)
        d = RETRY_MAX_MS;
    /* somewhere in [d/2, d], so a crowd of clients spreads out */
    return d * jitter(0.5, 1);
}

static void retry_cb(uv_timer_t *t)
{
    struct pwc *c = t->data;
    if (!c->finished)
        c->tp->start(c);
}

int pwc_retry(struct pwc *c, int err)
{
    if (!c->o.reconnect || c->done_receiving || c->finished || !retryable(c, err))
        return 0;
    c->attempts++;
    if (c->o.reconnect_max > 0 && c->attempts > c->o.reconnect_max) {
        pwc_info(c, "giving up after %ld reconnect attempts", c->o.reconnect_max);
        return 0;
    }
    double ms = delay_ms(c);
    const char *id = pwc_last_id(c);
    size_t il = strlen(id);
    pwc_info(c, "reconnecting in %.1f s%s%.*s%s%s", ms / 1000, il ? " (resuming after '" : "",
             (int)(il > RETRY_SHOW_ID ? RETRY_SHOW_ID : il), id, il > RETRY_SHOW_ID ? "..." : "",
             il ? "')" : "");
    uv_timer_start(&c->t_retry, retry_cb, (uint64_t)ms, 0);
    return 1;
}

void pwc_next_now(struct pwc *c) { pwc_next_in(c, 0); }

void pwc_next_in(struct pwc *c, uint64_t ms)
{
    if (!c->finished)
        uv_timer_start(&c->t_retry, retry_cb, ms, 0);
}

void pwc_retry_reset(struct pwc *c) { c->attempts = 0; }
