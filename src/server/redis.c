/* redis.c — the Redis backplane (redis.h): links, scripts, channels. */
#include "redis.h"

#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pw_errio.h"

#define RD_QMAX 8192                 /* commands in flight per link */
#define RD_WQMAX (32u << 20)         /* bytes waiting to be written per link */
#define RD_BACKOFF_MIN 100
#define RD_BACKOFF_MAX 5000
#define RD_PING_MS 1000
#define RD_TICK_MS 250
#define RD_RETRY_MAX 2000            /* channels' commands Redis refuses: retried at
                                        most this far apart (250 ms, doubling) */
#define RD_NOTE_MAX 4096             /* notes kept per channel while it catches up */
#define RD_NOTE_BYTES (8u << 20)
#define RD_SYNC_BYTES (8u << 20)     /* about this much data per page of a catch-up */
#define RD_LINKS 34                  /* the subscriber link and up to 33 command links */
#define RD_REFUSAL_HOLD_MS 10000     /* /healthz tells a refusal this long after the latest */
#define RD_REDIRECTS 5               /* MOVED/ASK followed at most this often per command */

/* The publish script: the epoch is made with the stream (a stream born
 * again gets a new one), the message XADDed, every node notified. */
static const char rd_pub_lua[] =
    "local ep = redis.call('GET', KEYS[2])\n"
    "if (not ep) or redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  ep = ARGV[1]\n"
    "  redis.call('SET', KEYS[2], ep)\n"
    "end\n"
    "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[3], 'b', ARGV[4], 'd', ARGV[5])\n"
    "redis.call('PUBLISH', ARGV[6], ep .. '\\n' .. id .. '\\n' .. ARGV[4] .. '\\n' .. ARGV[3] .. '\\n' .. ARGV[5])\n"
    "return {ep, id}\n";

/* The page script: ARGV[1] the epoch of the id resumed after ('' for "0",
 * which takes any), ARGV[2] its stream id, ARGV[3] how many.  Answers
 * {epoch, first, last, max-deleted, gap, entries}: a gap when the id is of
 * another epoch, newer than the last, older than the first held (trimmed:
 * MAXLEN leaves no trace of what it took, max-deleted-entry-id stays 0-0,
 * so an id that was itself trimmed is a gap even if the one after it is
 * still held), or something after it was deleted (max-deleted-entry-id:
 * XDEL); for "0", when the stream ever lost an entry (entries-added, Redis
 * 7, above its length), as the embedded backlog says a gap after 0 once its
 * first message is gone; the entries then start at the oldest held. */
static const char rd_page_lua[] =
    "local function cn(a, b)\n"
    "  if #a ~= #b then return #a < #b and -1 or 1 end\n"
    "  if a == b then return 0 end\n"
    "  return a < b and -1 or 1\n"
    "end\n"
    "local function ci(a, b)\n"
    "  local am, as = string.match(a, '^(%d+)-(%d+)$')\n"
    "  local bm, bs = string.match(b, '^(%d+)-(%d+)$')\n"
    "  local c = cn(am, bm)\n"
    "  if c ~= 0 then return c end\n"
    "  return cn(as, bs)\n"
    "end\n"
    "local ep = redis.call('GET', KEYS[2])\n"
    "if (not ep) or redis.call('EXISTS', KEYS[1]) == 0 then\n"
    "  return {'', '', '0-0', '', ARGV[1] == '' and 0 or 1, {}}\n"
    "end\n"
    "local info = redis.call('XINFO', 'STREAM', KEYS[1])\n"
    "local last, first, maxdel, len, added = '0-0', '', '', 0, nil\n"
    "for i = 1, #info, 2 do\n"
    "  local k, v = info[i], info[i + 1]\n"
    "  if k == 'last-generated-id' then last = v\n"
    "  elseif k == 'max-deleted-entry-id' then maxdel = v\n"
    "  elseif k == 'length' then len = v\n"
    "  elseif k == 'entries-added' then added = v\n"
    "  elseif k == 'first-entry' and v then first = v[1] end\n"
    "end\n"
    "local gap, x = 1, ARGV[2]\n"
    "if ARGV[1] == '' or ARGV[1] == ep then\n"
    "  gap = 0\n"
    "  if ci(x, last) > 0 then gap = 1\n"
    "  elseif maxdel ~= '' and ci(maxdel, x) > 0 then gap = 1\n"
    "  elseif ARGV[1] ~= '' and first ~= '' and ci(x, first) < 0 then gap = 1\n"
    "  elseif ARGV[1] == '' and added and added > len then gap = 1 end\n"
    "end\n"
    "local e = {}\n"
    "if ARGV[3] ~= '0' then\n"
    "  e = redis.call('XRANGE', KEYS[1], gap == 1 and '-' or ('(' .. x), '+', 'COUNT', ARGV[3])\n"
    "end\n"
    "return {ep, first, last, maxdel, gap, e}\n";

enum { RD_CMD = 0, RD_SUB = 1 };
enum { RL_IDLE = 0, RL_RESOLVING, RL_CONNECTING, RL_UP, RL_CLOSING };
enum {
    RP_SETUP = 1, RP_SETUP_LAST, RP_PUB, RP_TAIL, RP_SYNC, RP_FETCH, /* command link */
    RP_SUBSCRIBE, RP_UNSUBSCRIBE, RP_PING, RP_SCRIPT, RP_SLOTS, RP_ASKING, RP_ROLE,
};

struct rd;
struct rchan;

/* A command waiting for its reply, in the order sent. */
struct rpend {
    uint8_t kind;
    struct rchan *ch;           /* a reference (TAIL, SYNC, SUBSCRIBE, UNSUBSCRIBE) */
    struct pw_msg *m;           /* PUB: ours */
    pw_ack_fn ack;              /* PUB */
    void (*done)(void *ud, const struct pw_page *pg); /* FETCH */
    void *ud;                   /* PUB, FETCH: NULL once cancelled */
    size_t max_msgs, max_bytes; /* FETCH */
    char *name;                 /* FETCH: the channel (ours) */
    char *cmd;                  /* PUB, TAIL, SYNC, FETCH: the command as sent (ours), to
                                   send again where a Cluster's MOVED or ASK points */
    size_t cmdlen;
    uint8_t redirects;
    uint64_t t_sent;            /* uv_now */
};

struct rlink {
    struct rd *rd;
    int kind;                   /* RD_CMD, RD_SUB */
    char host[PW_REDIS_HOST_MAX];  /* where (the URL's, or a Cluster primary's) */
    unsigned port;
    int state;
    int ready;                  /* setup answered */
    int handle_init;            /* the stream handle is initialized (maybe closing) */
    int gai_pending;            /* a resolution on its way (its request is not reused before) */
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    uv_connect_t creq;
    uv_getaddrinfo_t gai;
    uv_timer_t timer;           /* backoff, connect timeout */
    redisReader *rr;
    struct rpend *q;            /* ring of commands in flight */
    size_t qcap, qhead, qn;
    unsigned backoff;
    uint64_t t_io;              /* last byte read */
    char refusal[128];          /* Redis's refusal of our channels' commands
                                   (rd_refusal), "" while it takes them */
    uint8_t refusal_writes;     /* it refuses writes only (a publish taken clears it) */
    uint64_t t_refusal, t_refusal_last; /* uv_now: the first, the latest */
    char rbuf[65536];
};

struct rchan {
    struct rchan *next;         /* bucket chain */
    uint64_t hash;
    uint32_t refs;              /* listed + each command that names it */
    uint8_t listed, tail_known, tail_pending, subscribed, syncing, live, resync;
    uint8_t sub_sent;           /* its SUBSCRIBE is on its way */
    struct pw_sub subs;         /* list head */
    size_t nsubs;
    char epoch[PW_EPOCH_MAX + 1]; /* "" while the stream does not exist */
    uint64_t ms, seq;           /* the last id delivered (or the tail) */
    struct pw_msg **notes;      /* notifications kept while catching up */
    size_t nnotes, notebytes;
    size_t len;
    char name[];
};

struct rd {
    struct pw_pubsub base;
    struct pw_redis_opts o;
    uv_loop_t *loop;
    uv_timer_t tick;
    int attached;
    struct rlink *link[RD_LINKS]; /* [RD_SUB], [RD_CMD] the URL's, then Cluster primaries */
    size_t nlinks;
    int cluster;                /* CLUSTER SLOTS answered: commands go by slot */
    int slots_pending;          /* a CLUSTER SLOTS on its way */
    uint8_t slot[PW_REDIS_SLOTS]; /* a Cluster slot's link (0: not known, the URL's) */
    struct rchan **tab;
    size_t nbuckets, nchans;
    char sha_pub[41], sha_page[41];
    size_t sync_count, reader_max;
    int was_up;                 /* for one log line per state change */
    int stalled;                /* a channel's command could not be sent: the tick retries */
    unsigned retry_ms;          /* while Redis refuses them: the retry's interval (0: every tick) */
    uint64_t retry_at;          /* and the uv_now before which the tick does not retry */
    uint64_t t_down;            /* uv_now when it went down */
    char why[160];              /* why it is down */
    char refused[160];          /* the last setup refusal logged ("" once up) */
    uint64_t m_reconnects, m_errors, m_gaps;
};

static void rd_log(struct rd *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void rd_log(struct rd *r, const char *fmt, ...)
{
    if (!r->o.log)
        return;
    char line[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->o.log(r->o.ud, line);
}

static const char *rd_where(const struct rd *r, char *out, size_t n)
{
    const struct pw_redis_url *u = &r->o.url;
    if (u->is_unix)
        snprintf(out, n, "%s", u->path);
    else
        snprintf(out, n, strchr(u->host, ':') ? "[%s]:%u" : "%s:%u", u->host, u->port);
    return out;
}

/* The link of a channel's keys: by slot in a Cluster, else the URL's. */
static struct rlink *rd_cmd(struct rd *r, const char *ch, size_t n)
{
    if (!r->cluster)
        return r->link[RD_CMD];
    unsigned k = r->slot[pw_redis_crc16(ch, n) & (PW_REDIS_SLOTS - 1)];
    return r->link[k ? k : RD_CMD];
}

/* Up: both links answered their setup.  One log line each way. */
static void rd_state(struct rd *r)
{
    int up = 1;
    for (size_t k = 0; k < r->nlinks; k++)
        up &= r->link[k]->ready;
    if (up == r->was_up)
        return;
    r->was_up = up;
    char w[300];
    if (up) {
        r->refused[0] = 0;
        rd_log(r, "connected to %s", rd_where(r, w, sizeof w));
    } else {
        r->t_down = r->loop ? uv_now(r->loop) : 0;
        rd_log(r, "%s: %s; reconnecting", rd_where(r, w, sizeof w),
               r->why);
    }
}

static void rd_sha(const char *script, char out[41])
{
    unsigned char d[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)script, strlen(script), d);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* ---- channels ---- */

static uint64_t rd_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static struct rchan *rd_find(struct rd *r, const char *ch, size_t n)
{
    uint64_t h = rd_hash(ch, n);
    for (struct rchan *c = r->tab[h & (r->nbuckets - 1)]; c; c = c->next)
        if (c->hash == h && c->len == n && memcmp(c->name, ch, n) == 0)
            return c;
    return NULL;
}

static void rd_notes_clear(struct rchan *c)
{
    for (size_t i = 0; i < c->nnotes; i++)
        pw_msg_unref(c->notes[i]);
    c->nnotes = c->notebytes = 0;
}

static void rd_chan_unref(struct rchan *c)
{
    if (--c->refs)
        return;
    rd_notes_clear(c);
    free(c->notes);
    free(c);
}

static int rd_grow_tab(struct rd *r)
{
    size_t nb = r->nbuckets * 2;
    struct rchan **t = calloc(nb, sizeof *t);
    if (!t)
        return PW_ENOMEM;
    for (size_t i = 0; i < r->nbuckets; i++)
        for (struct rchan *c = r->tab[i], *nx; c; c = nx) {
            nx = c->next;
            c->next = t[c->hash & (nb - 1)];
            t[c->hash & (nb - 1)] = c;
        }
    free(r->tab);
    r->tab = t;
    r->nbuckets = nb;
    return 0;
}

static struct rchan *rd_chan_new(struct rd *r, const char *ch, size_t n)
{
    if (r->nchans >= r->nbuckets && rd_grow_tab(r))
        return NULL;
    struct rchan *c = calloc(1, sizeof *c + n + 1);
    if (!c || !(c->notes = malloc(16 * sizeof *c->notes))) {
        free(c);
        return NULL;
    }
    c->hash = rd_hash(ch, n);
    c->len = n;
    memcpy(c->name, ch, n);
    c->subs.next = c->subs.prev = &c->subs;
    c->refs = 1;
    c->listed = 1;
    c->next = r->tab[c->hash & (r->nbuckets - 1)];
    r->tab[c->hash & (r->nbuckets - 1)] = c;
    r->nchans++;
    return c;
}

static void rd_chan_unlist(struct rd *r, struct rchan *c)
{
    struct rchan **pp = &r->tab[c->hash & (r->nbuckets - 1)];
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    r->nchans--;
    c->listed = 0;
    rd_notes_clear(c);
    rd_chan_unref(c);
}

/* "pw:{C}:X" for a channel */
static size_t rd_key(char *out, const char *ch, size_t n, char x)
{
    memcpy(out, "pw:{", 4);
    memcpy(out + 4, ch, n);
    memcpy(out + 4 + n, "}:", 2);
    out[6 + n] = x;
    out[7 + n] = 0;
    return 7 + n;
}
#define RD_KEY_MAX (PW_CHANNEL_MAX + 8)

/* ---- links: commands out, replies in ---- */

static void rl_drop(struct rlink *l, const char *why);
static void rd_reply(struct rlink *l, struct rpend *p, redisReply *rep);
static void rd_sub_message(struct rd *r, redisReply *rep);
static void rd_chan_advance(struct rd *r, struct rchan *c);
static void rl_ready(struct rlink *l);
static void rd_chan_subscribe(struct rd *r, struct rchan *c);
static void rl_start(struct rlink *l);
static int rl_put(struct rlink *l, struct rpend *p, char *cmd, size_t len);

struct rwrite {
    uv_write_t req;
    char data[];
};

static void rl_write_cb(uv_write_t *req, int status)
{
    (void)status; /* a failed write shows as a failed read or a timeout */
    free(req);
}

static int rl_push(struct rlink *l, const struct rpend *p)
{
    if (l->qn == l->qcap) {
        size_t nc = l->qcap ? l->qcap * 2 : 64;
        if (l->qcap >= RD_QMAX)
            return PW_ENET_BACKEND;
        struct rpend *q = malloc(nc * sizeof *q);
        if (!q)
            return PW_ENOMEM;
        for (size_t i = 0; i < l->qn; i++)
            q[i] = l->q[(l->qhead + i) % l->qcap];
        free(l->q);
        l->q = q;
        l->qcap = nc;
        l->qhead = 0;
    }
    l->q[(l->qhead + l->qn) % l->qcap] = *p;
    l->qn++;
    return 0;
}

/* 1 when the link can take another command. */
static int rl_can(const struct rlink *l)
{
    return l->state == RL_UP && l->qn < RD_QMAX &&
           uv_stream_get_write_queue_size((const uv_stream_t *)&l->h) < RD_WQMAX;
}

/* Sends one command and queues what its reply is for; p->ch gets a
 * reference.  0, or a negative code (nothing sent, nothing queued). */
/* Queues p and writes cmd[0..len) (ours: kept in p->cmd for the kinds a
 * Cluster may redirect, else freed).  0, or a negative code (nothing
 * queued, cmd freed). */
static int rl_put(struct rlink *l, struct rpend *p, char *cmd, size_t len)
{
    int keep = p->kind == RP_PUB || p->kind == RP_TAIL || p->kind == RP_SYNC || p->kind == RP_FETCH;
    if (!rl_can(l)) {
        free(cmd);
        return PW_ENET_BACKEND;
    }
    p->t_sent = uv_now(l->rd->loop);
    p->cmd = keep ? cmd : NULL;
    p->cmdlen = keep ? len : 0;
    int rc = rl_push(l, p);
    if (rc) {
        free(cmd);
        return rc;
    }
    if (p->ch)
        p->ch->refs++;
    uv_buf_t b = uv_buf_init(cmd, (unsigned)len);
    int w = uv_stream_get_write_queue_size((uv_stream_t *)&l->h) ? UV_EAGAIN
                                                                   : uv_try_write((uv_stream_t *)&l->h, &b, 1);
    if (w == UV_EAGAIN)
        w = 0;
    if (w >= 0 && (size_t)w < len) {
        struct rwrite *wr = malloc(sizeof *wr + (len - (size_t)w));
        if (wr) {
            memcpy(wr->data, cmd + w, len - (size_t)w);
            b = uv_buf_init(wr->data, (unsigned)(len - (size_t)w));
            if (uv_write(&wr->req, (uv_stream_t *)&l->h, &b, 1, rl_write_cb)) {
                free(wr);
                w = -1;
            }
        } else {
            w = -1;
        }
    }
    if (!keep)
        free(cmd);
    if (w < 0)
        rl_drop(l, "write failed"); /* the command fails with the others */
    return 0;
}

/* Sends one command and queues what its reply is for; p->ch gets a
 * reference.  0, or a negative code (nothing sent, nothing queued). */
static int rl_send(struct rlink *l, struct rpend *p, int argc, const char **argv, const size_t *lens)
{
    if (!rl_can(l))
        return PW_ENET_BACKEND;
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
    if (len < 0)
        return PW_ENOMEM;
    return rl_put(l, p, cmd, (size_t)len);
}

static int rl_sendv(struct rlink *l, struct rpend *p, int argc, ...)
{
    const char *argv[8];
    size_t lens[8];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc && i < 8; i++) {
        argv[i] = va_arg(ap, const char *);
        lens[i] = strlen(argv[i]);
    }
    va_end(ap);
    return rl_send(l, p, argc, argv, lens);
}

/* Takes the oldest command off the queue. */
static int rl_pop(struct rlink *l, struct rpend *out)
{
    if (!l->qn)
        return 0;
    *out = l->q[l->qhead];
    l->qhead = (l->qhead + 1) % l->qcap;
    l->qn--;
    return 1;
}

static void rl_alloc_cb(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    struct rlink *l = h->data;
    (void)sz;
    *b = uv_buf_init(l->rbuf, sizeof l->rbuf);
}

static void rl_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct rlink *l = s->data;
    struct rd *r = l->rd;
    if (n < 0) {
        rl_drop(l, n == UV_EOF ? "connection closed by Redis" : uv_strerror((int)n));
        return;
    }
    if (n == 0)
        return;
    l->t_io = uv_now(r->loop);
    if (redisReaderFeed(l->rr, b->base, (size_t)n) != REDIS_OK) {
        rl_drop(l, "reply unreadable");
        return;
    }
    for (;;) {
        void *rep = NULL;
        if (redisReaderGetReply(l->rr, &rep) != REDIS_OK) {
            rl_drop(l, l->rr->errstr[0] ? l->rr->errstr : "reply unreadable");
            return;
        }
        if (!rep)
            break;
        redisReply *y = rep;
        if (l->kind == RD_SUB && y->type == REDIS_REPLY_ARRAY && y->elements == 3 &&
            y->element[0]->type == REDIS_REPLY_STRING && strcmp(y->element[0]->str, "message") == 0) {
            rd_sub_message(r, y);
            freeReplyObject(y);
            continue;
        }
        struct rpend p;
        if (!rl_pop(l, &p)) {
            freeReplyObject(y);
            rl_drop(l, "a reply to nothing asked");
            return;
        }
        int state = l->state;
        rd_reply(l, &p, y);
        freeReplyObject(y);
        if (l->state != state || l->state != RL_UP)
            return; /* dropped meanwhile: the reader is gone */
    }
    /* a reply being read is bounded: past it, Redis is not what we think */
    if (l->rr->len - l->rr->pos > r->reader_max)
        rl_drop(l, "a reply is too large");
}

/* ---- failing what was in flight ---- */

static void rd_fail(struct rd *r, struct rpend *p)
{
    switch (p->kind) {
    case RP_PUB:
        if (p->ack)
            p->ack(p->ud, p->m, PW_ENET_BACKEND);
        pw_msg_unref(p->m);
        break;
    case RP_FETCH:
        if (p->done) {
            struct pw_page pg = {PW_ENET_BACKEND, 0, "", "0", NULL, 0, 1};
            p->done(p->ud, &pg);
        }
        free(p->name);
        break;
    case RP_TAIL:
        p->ch->tail_pending = 0;
        break;
    case RP_SYNC:
        p->ch->syncing = 0;
        break;
    case RP_SUBSCRIBE:
        p->ch->sub_sent = 0;
        break;
    default:
        break;
    }
    (void)r;
    free(p->cmd);
    if (p->ch)
        rd_chan_unref(p->ch);
}

static void rl_close_cb(uv_handle_t *h)
{
    struct rlink *l = h->data;
    l->handle_init = 0;
    if (l->state == RL_CLOSING)
        l->state = RL_IDLE;
}

static void rl_connect(struct rlink *l);

static void rl_timer_cb(uv_timer_t *t)
{
    struct rlink *l = t->data;
    if (l->state == RL_CONNECTING || l->state == RL_RESOLVING) {
        rl_drop(l, "connection timed out");
        return;
    }
    if (l->state == RL_CLOSING || l->handle_init || l->gai_pending) { /* the close is still on its way */
        uv_timer_start(&l->timer, rl_timer_cb, 10, 0);
        return;
    }
    if (l->state == RL_IDLE)
        rl_connect(l);
}

/* The link is lost (or could not be made): everything in flight fails, the
 * channels go back to catching up, a new try after the backoff. */
static void rl_drop(struct rlink *l, const char *why)
{
    struct rd *r = l->rd;
    if (l->state == RL_IDLE || l->state == RL_CLOSING)
        return;
    int was = l->state;
    if (l->state == RL_RESOLVING)
        uv_cancel((uv_req_t *)&l->gai);
    if (l->handle_init && !uv_is_closing((uv_handle_t *)&l->h))
        uv_close((uv_handle_t *)&l->h, rl_close_cb);
    l->state = l->handle_init ? RL_CLOSING : RL_IDLE;
    if (l->ready || was == RL_UP)
        r->m_reconnects++;
    l->ready = 0;
    snprintf(r->why, sizeof r->why, "%s", why);
    if (l->rr) {
        redisReaderFree(l->rr);
        l->rr = NULL;
    }
    struct rpend p;
    while (rl_pop(l, &p))
        rd_fail(r, &p);
    if (l->kind == RD_SUB)
        for (size_t i = 0; i < r->nbuckets; i++)
            for (struct rchan *c = r->tab[i]; c; c = c->next) {
                c->subscribed = c->live = 0;
                rd_notes_clear(c);
            }
    rd_state(r);
    uv_timer_start(&l->timer, rl_timer_cb, l->backoff, 0);
    l->backoff = l->backoff * 2 > RD_BACKOFF_MAX ? RD_BACKOFF_MAX : l->backoff * 2;
}

/* Connected: the setup (AUTH, SELECT, scripts) goes first, pipelined with
 * what follows; the link is ready when its last reply comes. */
static void rl_setup(struct rlink *l)
{
    struct rd *r = l->rd;
    const struct pw_redis_url *u = &r->o.url;
    struct rpend p = {0};
    p.kind = RP_SETUP;
    l->state = RL_UP;
    l->t_io = uv_now(r->loop);
    if (u->has_pass) {
        if (u->user[0])
            rl_sendv(l, &p, 3, "AUTH", u->user, u->pass);
        else
            rl_sendv(l, &p, 2, "AUTH", u->pass);
    }
    if (u->db) {
        char db[16];
        snprintf(db, sizeof db, "%u", u->db);
        rl_sendv(l, &p, 2, "SELECT", db);
    }
    if (l->kind == RD_CMD) {
        rl_sendv(l, &p, 3, "SCRIPT", "LOAD", rd_pub_lua);
        rl_sendv(l, &p, 3, "SCRIPT", "LOAD", rd_page_lua);
        /* may this user PUBLISH (and so SUBSCRIBE) to pw:…?  An ACL user
         * made without channels (Redis 7's acl-pubsub-default) may not: say
         * so here (/healthz, the log) rather than refuse every publish
         * later.  No channel is named "" : nobody listens to this one. */
        rl_sendv(l, &p, 3, "PUBLISH", "pw:{}:n", "");
        struct rpend o = {0};
        o.kind = RP_ROLE;
        rl_sendv(l, &o, 1, "ROLE");
    }
    if (l == r->link[RD_CMD]) {
        /* a Cluster answers with its slot map, a single Redis with an error */
        struct rpend c = {0};
        c.kind = RP_SLOTS;
        if (rl_sendv(l, &c, 2, "CLUSTER", "SLOTS") == 0)
            r->slots_pending = 1;
    }
    p.kind = RP_SETUP_LAST;
    rl_sendv(l, &p, 1, "PING");
}

/* SUBSCRIBE for a channel on the subscriber link; one that cannot be sent
 * now (the link's queue is full) is left to the tick's sweep. */
static void rd_chan_subscribe(struct rd *r, struct rchan *c)
{
    struct rlink *l = r->link[RD_SUB];
    if (!l->ready || c->subscribed || c->sub_sent)
        return;
    char key[RD_KEY_MAX];
    rd_key(key, c->name, c->len, 'n');
    struct rpend s = {0};
    s.kind = RP_SUBSCRIBE;
    s.ch = c;
    if (rl_sendv(l, &s, 2, "SUBSCRIBE", key) == 0)
        c->sub_sent = 1;
    else
        r->stalled = 1;
}

/* Ready: every channel this node serves is subscribed again (the
 * subscriber link) or goes on catching up (the command link). */
static void rl_ready(struct rlink *l)
{
    struct rd *r = l->rd;
    l->ready = 1;
    l->backoff = RD_BACKOFF_MIN;
    l->refusal[0] = 0; /* a new connection: what it refuses is seen anew */
    rd_state(r);
    for (size_t i = 0; i < r->nbuckets; i++)
        for (struct rchan *c = r->tab[i]; c; c = c->next) {
            if (l->state != RL_UP)
                return;
            if (l->kind == RD_CMD)
                rd_chan_advance(r, c);
            else
                rd_chan_subscribe(r, c);
        }
}

static void rl_connect_cb(uv_connect_t *req, int status)
{
    struct rlink *l = req->data;
    if (l->state != RL_CONNECTING)
        return;
    if (status) {
        rl_drop(l, uv_strerror(status));
        return;
    }
    uv_timer_stop(&l->timer);
    l->rr = redisReaderCreate();
    if (!l->rr) {
        rl_drop(l, "out of memory");
        return;
    }
    int rc = uv_read_start((uv_stream_t *)&l->h, rl_alloc_cb, rl_read_cb);
    if (rc) {
        rl_drop(l, uv_strerror(rc));
        return;
    }
    rl_setup(l);
}

static void rl_gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct rlink *l = req->data;
    l->gai_pending = 0;
    if (l->state != RL_RESOLVING) {
        uv_freeaddrinfo(res);
        return;
    }
    if (status || !res) {
        uv_freeaddrinfo(res);
        rl_drop(l, status == UV_ECANCELED ? "cancelled" : uv_strerror(status));
        return;
    }
    int rc = uv_tcp_init(l->rd->loop, &l->h.tcp);
    if (rc == 0) {
        l->handle_init = 1;
        l->h.tcp.data = l;
        uv_unref((uv_handle_t *)&l->h);
        uv_tcp_nodelay(&l->h.tcp, 1);
        l->state = RL_CONNECTING;
        rc = uv_tcp_connect(&l->creq, &l->h.tcp, res->ai_addr, rl_connect_cb);
    }
    uv_freeaddrinfo(res);
    if (rc)
        rl_drop(l, uv_strerror(rc));
}

static void rl_connect(struct rlink *l)
{
    struct rd *r = l->rd;
    const struct pw_redis_url *u = &r->o.url;
    l->creq.data = l;
    l->gai.data = l;
    uv_timer_start(&l->timer, rl_timer_cb, PW_REDIS_TIMEOUT_MS, 0);
    if (u->is_unix && !l->port) { /* a Cluster's other primaries are TCP */
        int rc = uv_pipe_init(r->loop, &l->h.pipe, 0);
        if (rc) {
            l->state = RL_CONNECTING;
            rl_drop(l, uv_strerror(rc));
            return;
        }
        l->handle_init = 1;
        l->h.pipe.data = l;
        uv_unref((uv_handle_t *)&l->h);
        l->state = RL_CONNECTING;
        uv_pipe_connect(&l->creq, &l->h.pipe, u->path, rl_connect_cb);
        return;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", l->port);
    struct addrinfo hints = {0};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    l->state = RL_RESOLVING;
    int rc = uv_getaddrinfo(r->loop, &l->gai, rl_gai_cb, l->host, port, &hints);
    l->gai_pending = rc == 0;
    if (rc)
        rl_drop(l, uv_strerror(rc));
}

/* Commands sent and not answered yet, on every link. */
static size_t rd_queued(const struct rd *r)
{
    size_t n = 0;
    for (size_t k = 0; k < r->nlinks; k++)
        n += r->link[k]->qn;
    return n;
}

/* Every tick: a command unanswered too long drops its link (a partition
 * shows no error); an idle subscriber link is pinged so that one is seen. */
static void rd_tick_cb(uv_timer_t *t)
{
    struct rd *r = t->data;
    uint64_t now = uv_now(r->loop);
    for (size_t k = 0; k < r->nlinks; k++) {
        struct rlink *l = r->link[k];
        if (l->state != RL_UP)
            continue;
        if (l->qn && now - l->q[l->qhead].t_sent > PW_REDIS_TIMEOUT_MS) {
            rl_drop(l, "no answer within 3 s");
            continue;
        }
        if (!l->qn && now - l->t_io > RD_PING_MS) {
            struct rpend p = {0};
            p.kind = RP_PING;
            rl_sendv(l, &p, 1, "PING");
        }
    }
    if (r->stalled && now >= r->retry_at) { /* channels whose commands did not fit or were refused: again */
        r->stalled = 0;
        for (size_t i = 0; i < r->nbuckets; i++)
            for (struct rchan *c = r->tab[i]; c; c = c->next) {
                rd_chan_advance(r, c);
                rd_chan_subscribe(r, c);
            }
    } else if (r->stalled) { /* backing off (rd_retry_pace): one channel's command, a probe */
        size_t q = rd_queued(r);
        for (size_t i = 0; i < r->nbuckets; i++)
            for (struct rchan *c = r->tab[i]; c; c = c->next) {
                rd_chan_advance(r, c);
                rd_chan_subscribe(r, c);
                if (rd_queued(r) != q)
                    return;
            }
    }
}

/* ---- replies ---- */

static int rd_is_err(const redisReply *y)
{
    return y->type == REDIS_REPLY_ERROR;
}

/* The link cannot be used as it is: logged once per reason, dropped (the
 * backoff tries again: a password set, a replica promoted). */
static void rd_setup_refuse(struct rlink *l, const char *what)
{
    struct rd *r = l->rd;
    char why[160];
    snprintf(why, sizeof why, "setup refused: %.120s", what);
    if (strcmp(why, r->refused) != 0) { /* once per refusal, not per try */
        char w[300];
        snprintf(r->refused, sizeof r->refused, "%s", why);
        rd_log(r, "%s: %s; trying again", rd_where(r, w, sizeof w), why);
    }
    rl_drop(l, why);
}

static void rd_setup_reply(struct rlink *l, struct rpend *p, redisReply *y)
{
    if (rd_is_err(y)) {
        rd_setup_refuse(l, y->str);
        return;
    }
    if (p->kind == RP_SETUP_LAST)
        rl_ready(l);
}

/* ROLE: [role, …].  A replica holds no writes (every publish would be
 * refused READONLY, /healthz saying ok): refused at setup.  An error (an
 * ACL without ROLE) is no answer: not checked. */
static void rd_role_reply(struct rlink *l, const redisReply *y)
{
    if (y->type != REDIS_REPLY_ARRAY || !y->elements || y->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(y->element[0]->str, "master") == 0)
        return;
    char why[120];
    snprintf(why, sizeof why, "Redis is a %.20s (ROLE), not a primary: give the primary",
             strcmp(y->element[0]->str, "slave") == 0 ? "replica" : y->element[0]->str);
    rd_setup_refuse(l, why);
}

/* A stream entry [id, [field, value, …]] as a message of channel ch. */
static struct pw_msg *rd_entry_msg(const char *epoch, const char *ch, size_t chlen,
                                   const redisReply *e, uint64_t *ms, uint64_t *seq)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    if (pw_redis_sid_parse(e->element[0]->str, e->element[0]->len, ms, seq))
        return NULL;
    const redisReply *f = e->element[1];
    const char *ev = NULL, *data = "";
    size_t evlen = 0, dlen = 0;
    int binary = 0;
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || k->len != 1)
            continue;
        if (k->str[0] == 'e')
            ev = v->str, evlen = v->len;
        else if (k->str[0] == 'b')
            binary = v->len == 1 && v->str[0] == '1';
        else if (k->str[0] == 'd')
            data = v->str, dlen = v->len;
    }
    if (ev && !pw_event_valid(ev, evlen))
        ev = NULL;
    struct pw_msg *m = pw_msg_new(ch, chlen, ev, data, dlen, binary);
    struct pw_msgid id = {PW_MSGID_STREAM, (uint8_t)strlen(epoch), {0}, *ms, *seq};
    memcpy(id.epoch, epoch, id.epoch_len);
    if (m && pw_msg_set_id(m, &id)) {
        pw_msg_unref(m);
        m = NULL;
    }
    return m;
}

/* The page script's answer, checked. */
struct rd_page {
    const char *epoch, *first, *last;
    int gap;
    const redisReply *entries;
};

static int rd_page_read(const redisReply *y, struct rd_page *pg)
{
    if (y->type != REDIS_REPLY_ARRAY || y->elements != 6)
        return -1;
    for (int i = 0; i < 4; i++)
        if (y->element[i]->type != REDIS_REPLY_STRING)
            return -1;
    if (y->element[4]->type != REDIS_REPLY_INTEGER || y->element[5]->type != REDIS_REPLY_ARRAY)
        return -1;
    pg->epoch = y->element[0]->str;
    pg->first = y->element[1]->str;
    pg->last = y->element[2]->str;
    pg->gap = y->element[4]->integer != 0;
    pg->entries = y->element[5];
    if (pg->epoch[0] && !pw_msgid_epoch_valid(pg->epoch, strlen(pg->epoch)))
        return -1;
    return 0;
}

static void rd_deliver(struct rchan *c, struct pw_msg *m)
{
    for (struct pw_sub *s = c->subs.next; s != &c->subs;) {
        struct pw_sub *nx = s->next;
        s->deliver(s, m);
        s = nx;
    }
}

static void rd_tail_reply(struct rd *r, struct rchan *c, const redisReply *y)
{
    struct rd_page pg;
    c->tail_pending = 0;
    if (rd_is_err(y) || rd_page_read(y, &pg) || pw_redis_sid_parse(pg.last, strlen(pg.last), &c->ms, &c->seq)) {
        r->m_errors++;
        r->stalled = 1; /* the tick tries again */
        return;
    }
    snprintf(c->epoch, sizeof c->epoch, "%s", pg.epoch);
    c->tail_known = 1;
    rd_chan_advance(r, c);
}

static int rd_newer(const struct rchan *c, uint64_t ms, uint64_t seq)
{
    return ms > c->ms || (ms == c->ms && seq > c->seq);
}

static void rd_sync_reply(struct rd *r, struct rchan *c, const redisReply *y)
{
    struct rd_page pg;
    c->syncing = 0;
    if (!c->listed)
        return;
    if (rd_is_err(y) || rd_page_read(y, &pg)) {
        r->m_errors++;
        r->stalled = 1; /* refused (a flushed script, a Cluster's TRYAGAIN, …): the
                           tick tries again, else the channel never goes live */
        return;
    }
    if (strcmp(pg.epoch, c->epoch) != 0 && pg.epoch[0]) {
        /* the stream was born again: all it holds is new (the feeds see
         * the new epoch and tell a gap) */
        snprintf(c->epoch, sizeof c->epoch, "%s", pg.epoch);
        c->ms = c->seq = 0;
    } else if (pg.gap && c->epoch[0]) {
        /* trimmed past what was last delivered while the live stream was
         * cut off: what follows does not follow on (backlog.h) */
        uint64_t lms, lseq;
        if (pw_redis_sid_parse(pg.last, strlen(pg.last), &lms, &lseq) == 0 &&
            (lms > c->ms || (lms == c->ms && lseq >= c->seq))) { /* not "newer than the last" */
            r->m_gaps++;
            rd_log(r, "channel %.*s: trimmed past the last id delivered while cut off; "
                      "its subscribers get a gap (first held %s:%s)",
                   (int)(c->len > 200 ? 200 : c->len), c->name, pg.epoch, pg.first[0] ? pg.first : "-");
            rd_deliver(c, NULL);
            if (!c->listed)
                return;
        }
    }
    for (size_t i = 0; i < pg.entries->elements; i++) {
        uint64_t ms, seq;
        struct pw_msg *m = rd_entry_msg(c->epoch, c->name, c->len, pg.entries->element[i], &ms, &seq);
        if (!m) {
            r->m_errors++;
            continue;
        }
        if (rd_newer(c, ms, seq)) {
            c->ms = ms;
            c->seq = seq;
            rd_deliver(c, m);
        }
        pw_msg_unref(m);
        if (!c->listed)
            return;
    }
    if (pg.entries->elements >= r->sync_count || c->resync) {
        c->resync = 0;
        rd_chan_advance(r, c);
        return;
    }
    /* caught up: what was noted meanwhile follows, then live */
    for (size_t i = 0; i < c->nnotes; i++) {
        struct pw_msg *m = c->notes[i];
        if (!pw_msgid_has_epoch(m->id, m->id_len, c->epoch, strlen(c->epoch))) {
            c->resync = 1;
            break;
        }
        if (rd_newer(c, m->ms, m->seq)) {
            c->ms = m->ms;
            c->seq = m->seq;
            rd_deliver(c, m);
        }
    }
    rd_notes_clear(c);
    if (!c->subscribed)
        return; /* its SUBSCRIBE answered, it reads again */
    if (c->resync) {
        c->resync = 0;
        rd_chan_advance(r, c);
        return;
    }
    c->live = 1;
}

/* A feed's page. */
static void rd_fetch_reply(struct rd *r, struct rpend *p, const redisReply *y)
{
    struct rd_page pg;
    char first[PW_ID_MAX] = "", last[PW_ID_MAX] = "0";
    struct pw_page out = {0, 0, first, last, NULL, 0, 1};
    if (rd_is_err(y) || rd_page_read(y, &pg)) {
        r->m_errors++;
        out.rc = PW_ENET_BACKEND;
        p->done(p->ud, &out);
        return;
    }
    if (pg.epoch[0]) {
        snprintf(last, sizeof last, "%s:%s", pg.epoch, pg.last);
        if (pg.first[0] && pg.gap)
            snprintf(first, sizeof first, "%s:%s", pg.epoch, pg.first);
    }
    out.gap = pg.gap && p->max_msgs;
    size_t n = pg.entries->elements, bytes = 0, k = 0;
    struct pw_msg **msgs = n ? calloc(n, sizeof *msgs) : NULL;
    if (n && !msgs) {
        out.rc = PW_ENOMEM;
        p->done(p->ud, &out);
        return;
    }
    size_t chlen = strlen(p->name);
    uint64_t ms = 0, seq = 0;
    for (size_t i = 0; i < n && k < p->max_msgs; i++) {
        struct pw_msg *m = rd_entry_msg(pg.epoch, p->name, chlen, pg.entries->element[i], &ms, &seq);
        if (!m) {
            r->m_errors++; /* not ours: skipped */
            continue;
        }
        if (k && bytes + m->len > p->max_bytes) {
            pw_msg_unref(m);
            break;
        }
        bytes += m->len;
        msgs[k++] = m;
    }
    out.msgs = msgs;
    out.n = k;
    out.end = k ? strcmp(msgs[k - 1]->id, last) == 0 : 1;
    p->done(p->ud, &out);
    for (size_t i = 0; i < k; i++)
        pw_msg_unref(msgs[i]);
    free(msgs);
}

static void rd_pub_reply(struct rd *r, struct rpend *p, const redisReply *y)
{
    struct pw_msgid id = {0};
    int rc = PW_ENET_BACKEND;
    if (y->type == REDIS_REPLY_ARRAY && y->elements == 2 && y->element[0]->type == REDIS_REPLY_STRING &&
        y->element[1]->type == REDIS_REPLY_STRING &&
        pw_msgid_epoch_valid(y->element[0]->str, y->element[0]->len) &&
        pw_redis_sid_parse(y->element[1]->str, y->element[1]->len, &id.ms, &id.seq) == 0) {
        id.form = PW_MSGID_STREAM;
        id.epoch_len = (uint8_t)y->element[0]->len;
        memcpy(id.epoch, y->element[0]->str, id.epoch_len);
        rc = pw_msg_set_id(p->m, &id) ? PW_ENOMEM : 0;
    } else {
        r->m_errors++;
    }
    if (p->ack)
        p->ack(p->ud, p->m, rc);
    pw_msg_unref(p->m);
}

/* The link to a Cluster primary, made when first named.  Its index, or -1. */
static int rd_link_for(struct rd *r, const char *host, unsigned port)
{
    for (size_t k = RD_CMD; k < r->nlinks; k++)
        if (r->link[k]->port == port && strcmp(r->link[k]->host, host) == 0)
            return (int)k;
    if (r->nlinks >= RD_LINKS)
        return -1;
    struct rlink *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    l->rd = r;
    l->kind = RD_CMD;
    l->backoff = RD_BACKOFF_MIN;
    snprintf(l->host, sizeof l->host, "%s", host);
    l->port = port;
    r->link[r->nlinks] = l;
    if (r->loop)
        rl_start(l);
    return (int)r->nlinks++;
}

static void rd_slots_refresh(struct rd *r, struct rlink *l)
{
    struct rpend c = {0};
    c.kind = RP_SLOTS;
    if (!r->slots_pending && rl_sendv(l, &c, 2, "CLUSTER", "SLOTS") == 0)
        r->slots_pending = 1;
}

/* CLUSTER SLOTS: [[start, end, [host, port, …], replicas…], …]; an error:
 * not a Cluster. */
static void rd_slots_reply(struct rd *r, const redisReply *y)
{
    r->slots_pending = 0;
    if (y->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < y->elements; i++) {
        const redisReply *e = y->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->type != REDIS_REPLY_INTEGER ||
            e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY ||
            e->element[2]->elements < 2 || e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
            e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
            continue;
        long long a = e->element[0]->integer, b = e->element[1]->integer;
        const char *host = e->element[2]->element[0]->str;
        long long port = e->element[2]->element[1]->integer;
        if (a < 0 || b >= PW_REDIS_SLOTS || a > b || port < 1 || port > 65535)
            continue;
        if (!host[0] || strcmp(host, "?") == 0)
            host = r->o.url.host; /* "the address you reached me at" */
        int k = rd_link_for(r, host, (unsigned)port);
        if (k < 0)
            continue;
        for (long long sl = a; sl <= b; sl++)
            r->slot[sl] = (uint8_t)k;
        r->cluster = 1;
    }
}

/* A Cluster's MOVED (the slot lives elsewhere: the map is read again) or
 * ASK (this once, over there): the command goes where it points.  1 when
 * it went (p's command, message and name went with it). */
static int rd_redirect(struct rd *r, struct rpend *p, const redisReply *y)
{
    int ask = strncmp(y->str, "ASK ", 4) == 0;
    if ((!ask && strncmp(y->str, "MOVED ", 6) != 0) || !p->cmd || p->redirects >= RD_REDIRECTS)
        return 0;
    char *end;
    unsigned long slot = strtoul(y->str + (ask ? 4 : 6), &end, 10);
    const char *hp = end + 1, *colon = strrchr(y->str, ':');
    if (*end != ' ' || !colon || colon < hp || slot >= PW_REDIS_SLOTS ||
        (size_t)(colon - hp) >= PW_REDIS_HOST_MAX)
        return 0;
    char host[PW_REDIS_HOST_MAX];
    memcpy(host, hp, (size_t)(colon - hp));
    host[colon - hp] = 0;
    unsigned long port = strtoul(colon + 1, NULL, 10);
    if (port < 1 || port > 65535)
        return 0;
    int k = rd_link_for(r, host[0] ? host : r->o.url.host, (unsigned)port);
    if (k < 0)
        return 0;
    struct rlink *t = r->link[k];
    if (!ask) {
        r->slot[slot] = (uint8_t)k;
        r->cluster = 1;
        rd_slots_refresh(r, t->ready ? t : r->link[RD_CMD]);
    }
    if (!t->ready)
        return 0; /* it fails; the next one goes there */
    if (ask) {
        struct rpend a = {0};
        a.kind = RP_ASKING;
        if (rl_sendv(t, &a, 1, "ASKING"))
            return 0;
    }
    struct rpend np = *p;
    np.redirects++;
    p->cmd = NULL;
    return rl_put(t, &np, np.cmd, np.cmdlen) == 0;
}

/* Where a link goes: a Cluster primary's address, or the URL's. */
static const char *rl_where(const struct rlink *l, char *out, size_t n)
{
    if (l->rd->o.url.is_unix || !l->host[0])
        return rd_where(l->rd, out, n);
    snprintf(out, n, strchr(l->host, ':') ? "[%s]:%u" : "%s:%u", l->host, l->port);
    return out;
}

/* Redis answers that say it takes no command of a kind just now, whatever
 * the channel: 1 any command (a Cluster without all its slots, a replica
 * without its primary, loading its data, a script running), 2 writes only
 * (maxmemory reached, a failed save, too few replicas); 0 another error. */
static int rd_refusal_kind(const char *e)
{
    static const char *const any[] = {"CLUSTERDOWN", "MASTERDOWN", "LOADING", "BUSY "};
    static const char *const writes[] = {"OOM ", "MISCONF", "NOREPLICAS"};
    for (size_t i = 0; i < sizeof any / sizeof *any; i++)
        if (strncmp(e, any[i], strlen(any[i])) == 0)
            return 1;
    for (size_t i = 0; i < sizeof writes / sizeof *writes; i++)
        if (strncmp(e, writes[i], strlen(writes[i])) == 0)
            return 2;
    return 0;
}

/* A channel's command answered (a publish, a page, a catch-up read): a
 * refusal of the kinds above is kept for /healthz (rd_health) and logged
 * when it starts; a command taken after it clears it (a publish, when only
 * writes were refused). */
static void rd_refusal(struct rlink *l, const struct rpend *p, const redisReply *y)
{
    if (p->kind != RP_PUB && p->kind != RP_TAIL && p->kind != RP_SYNC && p->kind != RP_FETCH)
        return;
    struct rd *r = l->rd;
    char w[300];
    uint64_t now = uv_now(r->loop);
    if (rd_is_err(y)) {
        int k = rd_refusal_kind(y->str);
        if (!k)
            return;
        /* a script's refusal names the script after the answer: not ours to show */
        const char *sc = strstr(y->str, " script: ");
        int n = sc ? (int)(sc - y->str) : (int)strlen(y->str);
        if (!l->refusal[0]) {
            l->t_refusal = now;
            rd_log(r, "%s refuses: %.*s", rl_where(l, w, sizeof w), n > 120 ? 120 : n, y->str);
        }
        snprintf(l->refusal, sizeof l->refusal, "%.*s", n > 120 ? 120 : n, y->str);
        l->refusal_writes = k == 2;
        l->t_refusal_last = now;
    } else if (l->refusal[0] && (p->kind == RP_PUB || !l->refusal_writes)) {
        rd_log(r, "%s takes commands again (refused for %llu s)", rl_where(l, w, sizeof w),
               (unsigned long long)((now - l->t_refusal) / 1000));
        l->refusal[0] = 0;
    }
}

/* A channel's catch-up or SUBSCRIBE answered.  Refused (BUSY, LOADING, a
 * Cluster's TRYAGAIN…), every channel waiting is tried again from the tick
 * 250 ms after the first refusal, then twice as long after each such retry
 * refused again, up to RD_RETRY_MAX, with up to a quarter more at random so
 * that nodes drift apart; meanwhile each tick sends one channel's command
 * as a probe.  So a Redis that is loading or running a script gets about
 * four commands a second from a node, not four per channel, and the first
 * one it takes (a probe) brings every channel back at the next tick. */
static void rd_retry_pace(struct rd *r, int refused)
{
    if (!refused) {
        r->retry_ms = 0;
        r->retry_at = 0;
        return;
    }
    uint64_t now = uv_now(r->loop);
    if (now < r->retry_at)
        return; /* another answer to the same retry */
    r->retry_ms = r->retry_ms ? r->retry_ms * 2 : RD_TICK_MS;
    if (r->retry_ms > RD_RETRY_MAX)
        r->retry_ms = RD_RETRY_MAX;
    unsigned jitter = (unsigned)((uv_hrtime() ^ (uintptr_t)r) % (r->retry_ms / 4 + 1));
    r->retry_at = now + r->retry_ms + jitter;
}

static void rd_reply(struct rlink *l, struct rpend *p, redisReply *y)
{
    struct rd *r = l->rd;
    if (rd_is_err(y) && p->cmd && rd_redirect(r, p, y)) {
        if (p->ch)
            rd_chan_unref(p->ch); /* the command sent again holds its own */
        return;
    }
    if (rd_is_err(y) && strncmp(y->str, "NOSCRIPT", 8) == 0) {
        /* scripts flushed (SCRIPT FLUSH): load them again for the next
         * commands, publishes and catch-up reads alike */
        struct rpend s = {0};
        s.kind = RP_SCRIPT;
        rl_sendv(l, &s, 3, "SCRIPT", "LOAD", rd_pub_lua);
        rl_sendv(l, &s, 3, "SCRIPT", "LOAD", rd_page_lua);
        /* a read (a page, a catch-up) is sent again behind them; a publish
         * is refused (sent again, it could pass one sent after it) */
        if (p->kind != RP_PUB && p->cmd && p->redirects < RD_REDIRECTS) {
            struct rpend np = *p;
            np.redirects++;
            p->cmd = NULL;
            if (rl_put(l, &np, np.cmd, np.cmdlen) == 0) {
                if (p->ch)
                    rd_chan_unref(p->ch); /* the command sent again holds its own */
                return;
            }
        }
    }
    rd_refusal(l, p, y);
    if (p->kind == RP_TAIL || p->kind == RP_SYNC || p->kind == RP_SUBSCRIBE)
        rd_retry_pace(r, rd_is_err(y));
    switch (p->kind) {
    case RP_SETUP:
    case RP_SETUP_LAST: rd_setup_reply(l, p, y); break;
    case RP_PUB: rd_pub_reply(r, p, y); break;
    case RP_TAIL: rd_tail_reply(r, p->ch, y); break;
    case RP_SYNC: rd_sync_reply(r, p->ch, y); break;
    case RP_FETCH:
        if (p->done)
            rd_fetch_reply(r, p, y);
        free(p->name);
        break;
    case RP_SUBSCRIBE:
        p->ch->sub_sent = 0;
        if (p->ch->listed && !rd_is_err(y)) {
            p->ch->subscribed = 1;
            rd_chan_advance(r, p->ch);
        } else if (p->ch->listed) {
            r->m_errors++;
            r->stalled = 1; /* the tick tries again */
        }
        break;
    case RP_SLOTS: rd_slots_reply(r, y); break;
    case RP_ROLE: rd_role_reply(l, y); break;
    default: break; /* UNSUBSCRIBE, PING, SCRIPT, ASKING */
    }
    free(p->cmd);
    if (p->ch)
        rd_chan_unref(p->ch);
    /* the primary was made a replica (a failover): the link is made again,
     * and its setup says so (/healthz) until it is a primary again */
    if (rd_is_err(y) && strncmp(y->str, "READONLY", 8) == 0 && l->state == RL_UP)
        rl_drop(l, y->str);
}

/* A notification: delivered at once when the channel is live, else kept
 * for after its catching up (bounded: past it, read the stream again). */
static void rd_sub_message(struct rd *r, redisReply *y)
{
    const redisReply *k = y->element[1], *v = y->element[2];
    if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || k->len < 8 ||
        memcmp(k->str, "pw:{", 4) != 0 || memcmp(k->str + k->len - 3, "}:n", 3) != 0)
        return;
    struct rchan *c = rd_find(r, k->str + 4, k->len - 7);
    struct pw_redis_note n;
    if (!c || !c->nsubs)
        return;
    if (pw_redis_note_parse((const uint8_t *)v->str, v->len, &n)) {
        r->m_errors++;
        return;
    }
    if (c->live && strcmp(n.epoch, c->epoch) == 0 && !rd_newer(c, n.ms, n.seq))
        return; /* had it */
    char ev[PW_EVENT_MAX + 1];
    size_t el = n.event_len > PW_EVENT_MAX ? PW_EVENT_MAX : n.event_len;
    memcpy(ev, n.event, el);
    ev[el] = 0;
    struct pw_msg *m = pw_msg_new(c->name, c->len, ev, n.data, n.len, n.binary);
    struct pw_msgid id = {PW_MSGID_STREAM, (uint8_t)strlen(n.epoch), {0}, n.ms, n.seq};
    memcpy(id.epoch, n.epoch, id.epoch_len);
    if (!m || pw_msg_set_id(m, &id)) {
        if (m)
            pw_msg_unref(m);
        c->live = 0; /* read it from the stream instead */
        c->resync = 1;
        rd_chan_advance(r, c);
        return;
    }
    if (c->live && strcmp(n.epoch, c->epoch) == 0) {
        c->ms = n.ms;
        c->seq = n.seq;
        rd_deliver(c, m);
        pw_msg_unref(m);
        return;
    }
    if (c->live) { /* another epoch: the stream was born again; read it */
        c->live = 0;
        rd_chan_advance(r, c);
    }
    if (c->nnotes < RD_NOTE_MAX && c->notebytes + m->len <= RD_NOTE_BYTES) {
        if ((c->nnotes & (c->nnotes - 1)) == 0 && c->nnotes >= 16) {
            struct pw_msg **nn = realloc(c->notes, 2 * c->nnotes * sizeof *nn);
            if (nn)
                c->notes = nn;
            else
                goto full;
        }
        c->notes[c->nnotes++] = m;
        c->notebytes += m->len;
        return;
    }
full:
    pw_msg_unref(m);
    rd_notes_clear(c);
    c->resync = 1;
}

/* The next step of a channel towards live: its tail (once), its SUBSCRIBE
 * answered, then pages after the last id until one is not full. */
static void rd_chan_advance(struct rd *r, struct rchan *c)
{
    struct rlink *l = rd_cmd(r, c->name, c->len);
    if (!c->listed || c->live || c->syncing || c->tail_pending || !l->ready)
        return;
    char ks[RD_KEY_MAX], ke[RD_KEY_MAX];
    rd_key(ks, c->name, c->len, 's');
    rd_key(ke, c->name, c->len, 'e');
    struct rpend p = {0};
    p.ch = c;
    if (!c->tail_known) {
        p.kind = RP_TAIL;
        if (rl_sendv(l, &p, 8, "EVALSHA", r->sha_page, "2", ks, ke, "", "0-0", "0") == 0)
            c->tail_pending = 1;
        else
            r->stalled = 1;
        return;
    }
    if (!c->subscribed)
        return;
    char sid[48], cnt[24];
    pw_redis_sid_format(sid, c->ms, c->seq);
    snprintf(cnt, sizeof cnt, "%zu", r->sync_count);
    p.kind = RP_SYNC;
    if (rl_sendv(l, &p, 8, "EVALSHA", r->sha_page, "2", ks, ke, c->epoch, sid, cnt) == 0)
        c->syncing = 1;
    else
        r->stalled = 1;
}

/* ---- the interface ---- */

static int rd_publish(struct pw_pubsub *ps, struct pw_msg *m, pw_ack_fn ack, void *ud)
{
    struct rd *r = (struct rd *)ps;
    struct rlink *l = rd_cmd(r, m->channel, m->channel_len);
    char epoch[PW_EPOCH_LEN + 1], maxlen[24], ks[RD_KEY_MAX], ke[RD_KEY_MAX], kn[RD_KEY_MAX];
    if (!l->ready || !rl_can(l)) {
        pw_msg_unref(m);
        return PW_ENET_BACKEND;
    }
    if (pw_msgid_epoch_new(epoch)) {
        pw_msg_unref(m);
        return PW_ENOMEM;
    }
    snprintf(maxlen, sizeof maxlen, "%zu", r->o.backlog);
    rd_key(ks, m->channel, m->channel_len, 's');
    rd_key(ke, m->channel, m->channel_len, 'e');
    rd_key(kn, m->channel, m->channel_len, 'n');
    const char *argv[11] = {"EVALSHA", r->sha_pub, "2", ks, ke, epoch, maxlen, m->event,
                            m->binary ? "1" : "0", (const char *)m->data, kn};
    size_t lens[11];
    for (int i = 0; i < 11; i++)
        lens[i] = i == 9 ? m->len : strlen(argv[i]);
    struct rpend p = {0};
    p.kind = RP_PUB;
    p.m = m;
    p.ack = ack;
    p.ud = ud;
    int rc = rl_send(l, &p, 11, argv, lens);
    if (rc)
        pw_msg_unref(m);
    return rc;
}

static int rd_subscribe(struct pw_pubsub *ps, const char *ch, size_t n, struct pw_sub *s)
{
    struct rd *r = (struct rd *)ps;
    if (!pw_channel_valid(ch, n))
        return PW_ENET_CHANNEL;
    struct rchan *c = rd_find(r, ch, n);
    if (!c) {
        if (!(c = rd_chan_new(r, ch, n)))
            return PW_ENOMEM;
        /* the tail first, on the command link: a page fetched after this
         * returns is read after it, so nothing newer than that page is missed */
        rd_chan_advance(r, c);
        rd_chan_subscribe(r, c);
    }
    pw_sub_link(&c->subs, s, c);
    c->nsubs++;
    return 0;
}

static void rd_unsubscribe(struct pw_pubsub *ps, struct pw_sub *s)
{
    struct rd *r = (struct rd *)ps;
    struct rchan *c = s->chan;
    if (!c)
        return;
    pw_sub_unlink(s);
    s->chan = NULL;
    if (--c->nsubs)
        return;
    struct rlink *l = r->link[RD_SUB];
    if (l->ready) {
        char kn[RD_KEY_MAX];
        rd_key(kn, c->name, c->len, 'n');
        struct rpend p = {0};
        p.kind = RP_UNSUBSCRIBE;
        rl_sendv(l, &p, 2, "UNSUBSCRIBE", kn);
    }
    rd_chan_unlist(r, c);
}

static int rd_fetch(struct pw_pubsub *ps, const struct pw_fetch_req *rq)
{
    struct rd *r = (struct rd *)ps;
    if (!pw_channel_valid(rq->channel, rq->chlen))
        return PW_ENET_CHANNEL;
    struct rlink *l = rd_cmd(r, rq->channel, rq->chlen);
    const char *epoch = "!", *sid = "0-0";
    char sbuf[48], cnt[24];
    struct pw_msgid id;
    size_t max = 0;
    if (rq->after) {
        max = rq->max_msgs ? rq->max_msgs : 1;
        if (pw_msgid_parse(rq->after, strlen(rq->after), &id) == 0) {
            if (id.form == PW_MSGID_START) {
                epoch = "";
            } else if (id.form == PW_MSGID_STREAM || (id.form == PW_MSGID_SEQ && id.seq == 0)) {
                epoch = id.epoch;
                pw_redis_sid_format(sbuf, id.ms, id.seq);
                sid = sbuf;
            }
        }
    }
    snprintf(cnt, sizeof cnt, "%zu", max);
    char ks[RD_KEY_MAX], ke[RD_KEY_MAX];
    rd_key(ks, rq->channel, rq->chlen, 's');
    rd_key(ke, rq->channel, rq->chlen, 'e');
    struct rpend p = {0};
    p.kind = RP_FETCH;
    p.done = rq->done;
    p.ud = rq->ud;
    p.max_msgs = max;
    p.max_bytes = rq->max_bytes;
    int rc = l->ready ? 0 : PW_ENET_BACKEND;
    if (!rc && !(p.name = strndup(rq->channel, rq->chlen)))
        rc = PW_ENOMEM;
    if (!rc)
        rc = rl_send(l, &p, 8, (const char *[]){"EVALSHA", r->sha_page, "2", ks, ke, epoch, sid, cnt},
                     (const size_t[]){7, 40, 1, strlen(ks), strlen(ke), strlen(epoch), strlen(sid), strlen(cnt)});
    if (rc) {
        free(p.name);
        struct pw_page pg = {rc, 0, "", "0", NULL, 0, 1};
        rq->done(rq->ud, &pg);
    }
    return 0;
}

static void rd_cancel(struct pw_pubsub *ps, void *ud)
{
    struct rd *r = (struct rd *)ps;
    for (size_t k = RD_CMD; k < r->nlinks; k++) {
        struct rlink *l = r->link[k];
        for (size_t i = 0; i < l->qn; i++) {
            struct rpend *p = &l->q[(l->qhead + i) % l->qcap];
            if ((p->kind == RP_PUB || p->kind == RP_FETCH) && p->ud == ud) {
                p->ud = NULL;
                p->ack = NULL;
                p->done = NULL;
            }
        }
    }
}

static int rd_health(struct pw_pubsub *ps, char *why, size_t whysz)
{
    struct rd *r = (struct rd *)ps;
    if (whysz)
        why[0] = 0;
    char w[300];
    if (r->was_up) {
        /* up, but refusing every command of a kind (a Cluster down, out of
         * memory): said while refusals keep coming, until one is taken;
         * with no command for RD_REFUSAL_HOLD_MS, it no longer says so
         * (nothing tells it is over: no channel command was sent) */
        uint64_t now = r->loop ? uv_now(r->loop) : 0;
        for (size_t k = 0; k < r->nlinks; k++) {
            const struct rlink *l = r->link[k];
            if (!l->refusal[0] || now - l->t_refusal_last >= RD_REFUSAL_HOLD_MS)
                continue;
            snprintf(why, whysz, "redis %s refuses%s: %s (for %llu s)", rl_where(l, w, sizeof w),
                     l->refusal_writes ? " writes" : "", l->refusal,
                     (unsigned long long)((now - l->t_refusal) / 1000));
            return PW_ENET_BACKEND;
        }
        return 0;
    }
    unsigned long secs = r->loop && r->t_down ? (unsigned long)((uv_now(r->loop) - r->t_down) / 1000) : 0;
    snprintf(why, whysz, "redis %s: %s (for %lu s, %llu reconnects)", rd_where(r, w, sizeof w),
             r->why[0] ? r->why : "connecting", secs, (unsigned long long)r->m_reconnects);
    return PW_ENET_BACKEND;
}

static void rd_each_channel(struct pw_pubsub *ps, void *ud,
                            void (*fn)(void *, const char *, size_t, size_t, size_t))
{
    struct rd *r = (struct rd *)ps;
    for (size_t i = 0; i < r->nbuckets; i++)
        for (struct rchan *c = r->tab[i]; c; c = c->next)
            fn(ud, c->name, 0, 0, c->nsubs);
}

static void rd_destroy(struct pw_pubsub *ps)
{
    struct rd *r = (struct rd *)ps;
    if (!r)
        return;
    /* the loop is gone (its handles closed by the server): no uv call here */
    for (size_t k = 0; k < r->nlinks; k++) {
        struct rlink *l = r->link[k];
        struct rpend p;
        while (rl_pop(l, &p)) {
            p.ack = NULL;
            p.done = NULL;
            rd_fail(r, &p);
        }
        free(l->q);
        if (l->rr)
            redisReaderFree(l->rr);
        free(l);
    }
    for (size_t i = 0; i < r->nbuckets; i++)
        for (struct rchan *c = r->tab[i], *nx; c; c = nx) {
            nx = c->next;
            for (struct pw_sub *s = c->subs.next; s != &c->subs; s = s->next)
                s->chan = NULL;
            rd_notes_clear(c);
            free(c->notes);
            free(c);
        }
    free(r->tab);
    free(r);
}

static size_t rd_in_flight(const struct rd *r)
{
    size_t n = 0;
    for (size_t k = 0; k < r->nlinks; k++)
        n += r->link[k]->qn;
    return n;
}

/* /metrics: the link, its reconnections, what is in flight. */
static size_t rd_metrics(struct pw_pubsub *ps, char *out, size_t cap)
{
    struct rd *r = (struct rd *)ps;
    int n = snprintf(out, cap,
        "# HELP pushwire_redis_up 1 while both Redis links (commands, notifications) work.\n"
        "# TYPE pushwire_redis_up gauge\npushwire_redis_up %d\n"
        "# HELP pushwire_redis_reconnects_total Redis links lost (each is made again).\n"
        "# TYPE pushwire_redis_reconnects_total counter\npushwire_redis_reconnects_total %llu\n"
        "# HELP pushwire_redis_commands_in_flight Redis commands sent and not yet answered.\n"
        "# TYPE pushwire_redis_commands_in_flight gauge\npushwire_redis_commands_in_flight %zu\n"
        "# HELP pushwire_redis_errors_total Redis answers refused or unreadable.\n"
        "# TYPE pushwire_redis_errors_total counter\npushwire_redis_errors_total %llu\n"
        "# HELP pushwire_redis_live_gaps_total Channels whose stream was trimmed past what their live "
        "subscribers had while the link was down (each got a gap).\n"
        "# TYPE pushwire_redis_live_gaps_total counter\npushwire_redis_live_gaps_total %llu\n",
        r->was_up, (unsigned long long)r->m_reconnects, rd_in_flight(r),
        (unsigned long long)r->m_errors, (unsigned long long)r->m_gaps);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static const struct pw_pubsub_ops rd_ops = {
    rd_publish, rd_subscribe, rd_unsubscribe, rd_fetch, rd_cancel, rd_health, rd_each_channel,
    rd_destroy, rd_metrics, NULL,
};

struct pw_pubsub *pw_redis_new(const struct pw_redis_opts *o)
{
    struct rd *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->base.ops = &rd_ops;
    r->o = *o;
    r->nbuckets = 64;
    r->tab = calloc(r->nbuckets, sizeof *r->tab);
    if (!r->tab) {
        free(r);
        return NULL;
    }
    rd_sha(rd_pub_lua, r->sha_pub);
    rd_sha(rd_page_lua, r->sha_page);
    size_t mm = o->max_message ? o->max_message : 1;
    r->sync_count = RD_SYNC_BYTES / mm;
    if (r->sync_count < 1)
        r->sync_count = 1;
    if (r->sync_count > 512)
        r->sync_count = 512;
    /* a page of pages, or one message, with room */
    r->reader_max = (r->sync_count > 256 ? r->sync_count : 256) * mm + (16u << 20);
    snprintf(r->why, sizeof r->why, "connecting");
    for (int k = 0; k < 2; k++) {
        struct rlink *l = r->link[k] = calloc(1, sizeof *l);
        if (!l) {
            r->base.ops->destroy(&r->base);
            return NULL;
        }
        r->nlinks++;
        l->rd = r;
        l->kind = k;
        l->backoff = RD_BACKOFF_MIN;
        snprintf(l->host, sizeof l->host, "%s", o->url.host);
        l->port = o->url.port;
    }
    return &r->base;
}

static void rl_start(struct rlink *l)
{
    uv_timer_init(l->rd->loop, &l->timer);
    l->timer.data = l;
    uv_unref((uv_handle_t *)&l->timer);
    rl_connect(l);
}

void pw_redis_attach(struct pw_pubsub *ps, uv_loop_t *loop)
{
    struct rd *r = (struct rd *)ps;
    r->loop = loop;
    r->attached = 1;
    r->t_down = uv_now(loop);
    uv_timer_init(loop, &r->tick);
    r->tick.data = r;
    uv_unref((uv_handle_t *)&r->tick);
    uv_timer_start(&r->tick, rd_tick_cb, RD_TICK_MS, RD_TICK_MS);
    for (size_t k = 0; k < r->nlinks; k++)
        rl_start(r->link[k]);
}
