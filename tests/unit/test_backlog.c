/* test_backlog.c — the embedded backlog: ids and epochs, ring wraparound,
 * pages after an id, the gap (old, foreign, never issued, unreadable ids),
 * acknowledged publishes, channel and event name rules, fan-out; the
 * memory limits: the history budget and its eviction order, the age limit,
 * forgotten channels (their ids never reissued), --max-channels, and the
 * accounting behind them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/backlog.h"
#include "host/net.h"
#include "tap.h"

struct got {
    char ids[64][PW_ID_MAX];
    size_t n;
    int gap, end, calls;
    char first[PW_ID_MAX], last[PW_ID_MAX];
};

static void collect(void *ud, const struct pw_page *pg)
{
    struct got *g = ud;
    g->calls++;
    g->gap = pg->gap;
    g->end = pg->end;
    snprintf(g->first, sizeof g->first, "%s", pg->first);
    snprintf(g->last, sizeof g->last, "%s", pg->last);
    for (size_t i = 0; i < pg->n; i++) {
        if (g->n < 64)
            strcpy(g->ids[g->n], pg->msgs[i]->id);
        g->n++;
    }
}

static int acked;
static char acked_id[PW_ID_MAX];
static void ack(void *ud, struct pw_msg *m, int rc)
{
    (void)ud;
    if (rc == 0) {
        acked++;
        strcpy(acked_id, m->id);
    }
}

static void pub(struct pw_pubsub *ps, const char *ch, const char *data)
{
    struct pw_msg *m = pw_msg_new(ch, strlen(ch), NULL, data, strlen(data), 0);
    if (!m || ps->ops->publish(ps, m, ack, NULL))
        abort();
}

struct sub {
    struct pw_sub s;
    struct pw_msg *last;
    int n;
};

static void deliver(struct pw_sub *s, struct pw_msg *m)
{
    struct sub *x = (struct sub *)s;
    if (x->last)
        pw_msg_unref(x->last);
    x->last = pw_msg_ref(m);
    x->n++;
}

static int fetchn(struct pw_pubsub *ps, const char *ch, const char *after, size_t max_msgs,
                  size_t max_bytes, struct got *g)
{
    memset(g, 0, sizeof *g);
    struct pw_fetch_req rq = {ch, strlen(ch), after, max_msgs, max_bytes, collect, g};
    return ps->ops->fetch(ps, &rq);
}

static int fetch(struct pw_pubsub *ps, const char *ch, const char *after, struct got *g)
{
    return fetchn(ps, ch, after, 1000, 1u << 20, g);
}

static uint64_t clock_ms;
static uint64_t fake_now(void)
{
    return clock_ms;
}

static void pubn(struct pw_pubsub *ps, const char *ch, size_t n)
{
    char *d = malloc(n);
    memset(d, 'x', n);
    struct pw_msg *m = pw_msg_new(ch, strlen(ch), NULL, d, n, 0);
    free(d);
    if (!m || ps->ops->publish(ps, m, ack, NULL))
        abort();
}

static size_t held(struct pw_pubsub *ps, const char *ch)
{
    struct got g;
    fetch(ps, ch, "0", &g);
    return g.n;
}

/* What one message of n data bytes on a 1-character channel is charged. */
static size_t cost_of(size_t n)
{
    struct pw_msg *m = pw_msg_new("a", 1, NULL, "", 0, 0);
    m->len = n; /* only the accounting looks */
    size_t c = pw_backlog_cost(m);
    m->len = 0;
    pw_msg_unref(m);
    return c;
}

static void test_budget(void)
{
    size_t big = 10000, small = 10;
    size_t cb = cost_of(big), cs = cost_of(small), cc = pw_backlog_chan_cost(1);
    /* room for the two small channels and 5 big messages, not 6 */
    size_t budget = 2 * (cs + cc) + cc + 5 * cb + cb / 2;
    struct pw_backlog_limits lim = {100, budget, 0, 0, fake_now, 0};
    struct pw_pubsub *ps = pw_backlog_new_limits(&lim, "ep");
    struct pw_pubsub_stats st;
    pubn(ps, "a", small);
    pubn(ps, "b", small);
    for (int i = 0; i < 5; i++)
        pubn(ps, "h", big);
    ps->ops->stats(ps, &st);
    IS(st.bytes, 2 * (cs + cc) + 5 * cb + cc, "the total is what each message and channel is charged");
    IS(st.messages, 7, "7 messages held");
    IS(st.evicted_budget, 0, "within the budget nothing is evicted");
    pubn(ps, "h", big);
    ps->ops->stats(ps, &st);
    IS(st.evicted_budget, 1, "one message more: one evicted");
    OK(st.bytes <= budget, "the total is back within the budget");
    OK(held(ps, "a") == 1 && held(ps, "b") == 1, "channels within their share keep their messages");
    IS(held(ps, "h"), 5, "the channel over its share lost its oldest");
    struct got g;
    fetch(ps, "h", "ep:0", &g);
    OK(g.gap && strcmp(g.first, "ep:2") == 0 && g.n == 5, "a resume into the evicted range is a gap");
    fetch(ps, "h", "ep:1", &g);
    OK(!g.gap && g.n == 5, "a resume right before the oldest held is not");

    /* the oldest messages of channels over their share go first: h's are
     * older than what small channels publish now */
    for (int i = 0; i < 20; i++) {
        char ch[16];
        snprintf(ch, sizeof ch, "s%d", i);
        pubn(ps, ch, small);
    }
    ps->ops->stats(ps, &st);
    OK(st.bytes <= budget, "still within the budget");
    OK(held(ps, "a") == 1 && held(ps, "b") == 1 && held(ps, "s19") == 1,
       "small channels are not evicted while a big one is over its share");
    OK(held(ps, "h") < 5, "the big one paid for them");
    fetch(ps, "h", "0", &g);
    OK(g.gap && g.n >= 1 && strcmp(g.ids[g.n - 1], "ep:6") == 0, "its newest are what is left");
    ps->ops->destroy(ps);

    /* channels of equal size: the oldest messages go, and their channels
     * are forgotten (no subscriber, no history) */
    lim.history_bytes = 10 * (cs + cc) + cs / 2;
    ps = pw_backlog_new_limits(&lim, "ep");
    for (int i = 0; i < 30; i++) {
        char ch[16];
        snprintf(ch, sizeof ch, "e%d", i);
        pubn(ps, ch, small);
    }
    ps->ops->stats(ps, &st);
    IS(st.channels, 10, "10 channels fit");
    IS(st.evicted_budget, 20, "20 messages evicted");
    IS(st.channels_expired, 20, "and their channels forgotten");
    OK(held(ps, "e0") == 0 && held(ps, "e19") == 0 && held(ps, "e20") == 1 && held(ps, "e29") == 1,
       "the oldest went first");
    ps->ops->destroy(ps);

    /* one message larger than the whole budget is still held (the newest
     * is never evicted by its own publish); the rest makes room */
    lim.history_bytes = cb / 2;
    ps = pw_backlog_new_limits(&lim, "ep");
    pubn(ps, "a", small);
    pubn(ps, "h", big);
    OK(held(ps, "h") == 1 && held(ps, "a") == 0, "a message over the budget is kept, alone");
    pubn(ps, "h", big);
    IS(held(ps, "h"), 1, "the next one replaces it");
    ps->ops->destroy(ps);
}

static void test_ttl(void)
{
    struct pw_backlog_limits lim = {100, 0, 1000, 0, fake_now, 0};
    clock_ms = 5000;
    struct pw_pubsub *ps = pw_backlog_new_limits(&lim, "ep");
    struct pw_pubsub_stats st;
    struct sub s = {{deliver, 0, 0, 0}, 0, 0};
    IS(ps->ops->subscribe(ps, "a", 1, &s.s), 0, "a has a subscriber");
    pub(ps, "a", "1");
    pub(ps, "a", "2");
    pub(ps, "b", "1");
    clock_ms += 500;
    pub(ps, "a", "3");
    pub(ps, "c", "1");
    clock_ms += 499;
    IS(held(ps, "a"), 3, "nothing expires before its age");
    clock_ms += 1;
    IS(held(ps, "a"), 1, "at 1 s the first two of a expire");
    ps->ops->stats(ps, &st);
    OK(st.evicted_ttl == 3 && st.channels == 2, "b's one expired too and b is forgotten; a (subscribed) and c stay");
    struct got g;
    fetch(ps, "a", "ep:1", &g);
    OK(g.gap && strcmp(g.first, "ep:3") == 0 && g.n == 1, "a resume into the expired range is a gap");
    clock_ms += 500;
    fetch(ps, "a", "ep:2", &g);
    OK(g.gap && g.n == 0 && g.first[0] == 0 && strcmp(g.last, "ep:3") == 0,
       "all expired: a gap, nothing held, the last id still known");
    ps->ops->stats(ps, &st);
    IS(st.channels, 1, "c expired and was forgotten; a stays while subscribed");
    ps->ops->unsubscribe(ps, &s.s);
    pw_msg_unref(s.last);
    ps->ops->stats(ps, &st);
    OK(st.channels == 0 && st.messages == 0 && st.bytes == 0, "unsubscribed: nothing held at all");
    IS(st.channels_expired, 3, "three channels forgotten");

    /* a forgotten channel's ids are never reissued */
    pub(ps, "a", "new");
    STREQ(acked_id, "ep:4", "a's next id continues above every forgotten one");
    fetch(ps, "a", "ep:1", &g);
    OK(g.gap && g.n == 1, "a resume from its past is a gap");
    fetch(ps, "a", "ep:3", &g);
    OK(!g.gap && g.n == 1 && strcmp(g.ids[0], "ep:4") == 0, "after its last id before: no gap");
    fetch(ps, "zz", NULL, &g);
    STREQ(g.last, "ep:3", "an unknown channel's cursor is above the forgotten ids");
    pub(ps, "zz", "first");
    fetch(ps, "zz", "ep:3", &g);
    OK(!g.gap && g.n == 1 && strcmp(g.ids[0], "ep:4") == 0, "and resuming from it misses nothing");
    fetch(ps, "zz", "0", &g);
    OK(!g.gap && g.n == 1, "0 on a channel holding all it issued is no gap");
    ps->ops->destroy(ps);
}

static void test_max_channels(void)
{
    struct pw_backlog_limits lim = {10, 0, 0, 2, fake_now, 0};
    struct pw_pubsub *ps = pw_backlog_new_limits(&lim, "ep");
    pub(ps, "a", "1");
    pub(ps, "b", "1");
    struct pw_msg *m = pw_msg_new("c", 1, NULL, "1", 1, 0);
    acked = 0;
    IS(ps->ops->publish(ps, m, ack, NULL), PW_ENET_CHANNELS, "a third channel is refused");
    IS(acked, 0, "and not acknowledged");
    pub(ps, "a", "2");
    IS(acked, 1, "publishing to an existing one works");
    struct sub s = {{deliver, 0, 0, 0}, 0, 0};
    IS(ps->ops->subscribe(ps, "c", 1, &s.s), 0, "subscribing creates one anyway");
    pub(ps, "c", "1");
    IS(s.n, 1, "and then it may be published to");
    struct pw_pubsub_stats st;
    ps->ops->stats(ps, &st);
    OK(st.channels == 3 && st.channels_refused == 1, "3 channels, 1 refusal counted");
    ps->ops->unsubscribe(ps, &s.s);
    pw_msg_unref(s.last);
    ps->ops->destroy(ps);
}

/* a subscriber that caches a wire form on what it gets, as the server's
 * transports do (which a replica must not charge: another has none) */
static void deliver_enc(struct pw_sub *s, struct pw_msg *m)
{
    if (!m->enc[0].p) {
        m->enc[0].p = malloc(m->len + 10);
        m->enc[0].len = m->len + 10;
    }
    deliver(s, m);
}

/* two replicas (hub.c) fed the same sequence, one with subscribers (which
 * keep channel structs and cache encodings), the other with none: the same
 * ids, pages, evictions and refusals, under every limit */
static void test_replicas(void)
{
    struct pw_backlog_limits lim = {100, 0, 1000, 2, fake_now, 1};
    clock_ms = 1000;
    struct pw_pubsub *r[2] = {pw_backlog_new_limits(&lim, "ep"), pw_backlog_new_limits(&lim, "ep")};
    struct sub s = {{deliver_enc, 0, 0, 0}, 0, 0}, s2 = {{deliver_enc, 0, 0, 0}, 0, 0};
    IS(r[0]->ops->subscribe(r[0], "a", 1, &s.s), 0, "replica 0: a subscriber on a");
    IS(r[0]->ops->subscribe(r[0], "q", 1, &s2.s), 0, "and one on q, which has no history");
    char ids[2][8][PW_ID_MAX];
    struct got g[2];
    struct pw_pubsub_stats st[2];
    int same = 1;
    for (int k = 0; k < 2; k++) {
        clock_ms = 1000;
        pub(r[k], "a", "1");
        pub(r[k], "b", "1");
        pub(r[k], "b", "2");
        pub(r[k], "b", "3");
        strcpy(ids[k][0], acked_id);
        clock_ms = 2000; /* everything expires */
        r[k]->ops->stats(r[k], &st[k]);
        pub(r[k], "a", "2");
        strcpy(ids[k][1], acked_id);
        pub(r[k], "q", "1");
        strcpy(ids[k][2], acked_id);
        struct pw_msg *m = pw_msg_new("c", 1, NULL, "1", 1, 0);
        same &= r[k]->ops->publish(r[k], m, ack, NULL) == PW_ENET_CHANNELS; /* a and q hold history */
        r[k]->ops->stats(r[k], &st[k]);
    }
    OK(same, "a third channel with history is refused by both (q, subscriber-only on one, counted only once it had history)");
    STREQ(ids[0][0], ids[1][0], "the same id for b's third");
    OK(strcmp(ids[0][1], ids[1][1]) == 0 && strcmp(ids[0][1], "ep:4") == 0,
       "a, kept by a subscriber on one and forgotten on the other, numbers its next from the floor on both: ep:4");
    OK(strcmp(ids[0][2], ids[1][2]) == 0 && strcmp(ids[0][2], "ep:4") == 0, "q (subscriber-only on one) alike: ep:4");
    OK(st[0].evicted_ttl == 4 && st[1].evicted_ttl == 4 && st[0].channels_expired == 2 &&
           st[1].channels_expired == 2 && st[0].channels_refused == 1 && st[1].channels_refused == 1,
       "the same evictions, forgotten channels and refusals");
    OK(st[0].bytes == st[1].bytes && st[0].messages == st[1].messages,
       "the same bytes charged: the cached encodings are not");
    same = 1;
    const char *after[] = {"ep:1", "ep:3", "ep:4", "0"};
    for (size_t i = 0; i < 4; i++) {
        fetch(r[0], "a", after[i], &g[0]);
        fetch(r[1], "a", after[i], &g[1]);
        same &= g[0].gap == g[1].gap && g[0].n == g[1].n && strcmp(g[0].first, g[1].first) == 0 &&
                strcmp(g[0].last, g[1].last) == 0;
    }
    OK(same, "a resume on a is answered alike by both, after ep:1, ep:3, ep:4 and 0");

    /* a budget: encodings cached on one replica only must not change what it evicts */
    struct pw_backlog_limits lb = {100, 3 * cost_of(200) + 2 * pw_backlog_chan_cost(1), 0, 0, fake_now, 1};
    struct pw_pubsub *rb[2] = {pw_backlog_new_limits(&lb, "ep"), pw_backlog_new_limits(&lb, "ep")};
    struct sub s3 = {{deliver_enc, 0, 0, 0}, 0, 0};
    rb[0]->ops->subscribe(rb[0], "x", 1, &s3.s);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 6; i++)
            pubn(rb[k], i % 2 ? "x" : "y", 200);
    rb[0]->ops->stats(rb[0], &st[0]);
    rb[1]->ops->stats(rb[1], &st[1]);
    OK(st[0].evicted_budget == st[1].evicted_budget && st[0].evicted_budget > 0 &&
           held(rb[0], "x") == held(rb[1], "x") && held(rb[0], "y") == held(rb[1], "y"),
       "the budget evicts the same messages on both");
    for (int k = 0; k < 2; k++) {
        r[k]->ops->destroy(r[k]);
        rb[k]->ops->destroy(rb[k]);
    }
    pw_msg_unref(s.last);
    pw_msg_unref(s2.last);
    pw_msg_unref(s3.last);
}

int main(void)
{
    /* channel name rule, SPEC §2 */
    OK(pw_channel_valid("a", 1), "one character is a channel name");
    OK(pw_channel_valid("A-z_0.9~", 8), "all allowed punctuation");
    char long128[129], long129[130];
    memset(long128, 'x', 128);
    long128[128] = 0;
    memset(long129, 'x', 129);
    long129[129] = 0;
    OK(pw_channel_valid(long128, 128), "128 characters allowed");
    OK(!pw_channel_valid(long129, 129), "129 characters refused");
    OK(!pw_channel_valid("", 0), "empty refused");
    OK(!pw_channel_valid("a/b", 3), "slash refused");
    OK(!pw_channel_valid("a b", 3), "space refused");
    OK(!pw_channel_valid("caf\xc3\xa9", 5), "non-ASCII refused");
    OK(!pw_channel_valid("a%20", 4), "percent refused");
    OK(pw_event_valid("price", 5) && !pw_event_valid("a\nb", 3) && !pw_event_valid("", 0),
       "event names: no line breaks, not empty");

    struct pw_pubsub *ps = pw_backlog_new(4, "ep");
    OK(ps != NULL, "backlog created");
    STREQ(pw_backlog_epoch(ps), "ep", "its epoch");
    struct got g;

    IS(fetch(ps, "c", NULL, &g), 0, "fetch on an unknown channel works");
    OK(g.calls == 1, "the page comes before fetch returns");
    STREQ(g.last, "ep:0", "unknown channel: last id is EPOCH:0");
    OK(g.n == 0 && g.end && !g.gap, "no messages, the end, no gap");

    pub(ps, "c", "one");
    IS(acked, 1, "the publish is acknowledged");
    STREQ(acked_id, "ep:1", "with its id");
    pub(ps, "c", "two");
    pub(ps, "d", "other");
    IS(fetch(ps, "c", "0", &g), 0, "fetch after 0");
    IS(g.n, 2, "two messages on c");
    STREQ(g.ids[0], "ep:1", "first id is EPOCH:1");
    STREQ(g.ids[1], "ep:2", "second id is EPOCH:2");
    STREQ(g.last, "ep:2", "last id EPOCH:2");
    IS(g.gap, 0, "no gap after 0 while 1 is kept");
    fetch(ps, "d", "0", &g);
    OK(g.n == 1 && strcmp(g.ids[0], "ep:1") == 0, "ids are per channel");

    fetch(ps, "c", "ep:1", &g);
    OK(g.n == 1 && strcmp(g.ids[0], "ep:2") == 0 && !g.gap, "resume after 1 gives 2");
    fetch(ps, "c", "ep:2", &g);
    OK(g.n == 0 && !g.gap && g.end, "resume after the newest gives nothing, no gap");
    fetch(ps, "c", "ep:0", &g);
    OK(g.n == 2 && !g.gap, "EPOCH:0 is the start of this epoch");

    for (int i = 3; i <= 10; i++)
        pub(ps, "c", "x");
    fetch(ps, "c", "0", &g);
    IS(g.n, 4, "ring keeps the last 4");
    OK(strcmp(g.ids[0], "ep:7") == 0 && strcmp(g.ids[3], "ep:10") == 0, "kept ids 7..10 in order");
    IS(g.gap, 1, "after 0 with 1..6 gone is a gap");
    STREQ(g.first, "ep:7", "gap reports the first kept id");
    fetch(ps, "c", "ep:6", &g);
    OK(g.n == 4 && !g.gap, "after 6 (oldest kept minus one) is not a gap");
    fetch(ps, "c", "ep:5", &g);
    OK(g.n == 4 && g.gap && strcmp(g.first, "ep:7") == 0, "after 5 is a gap, first 7");
    fetch(ps, "c", "ep:8", &g);
    OK(g.n == 2 && strcmp(g.ids[0], "ep:9") == 0 && strcmp(g.ids[1], "ep:10") == 0,
       "after 8 across the wrapped ring gives 9, 10");
    fetch(ps, "c", "ep:99", &g);
    OK(g.gap && g.n == 4, "an id never issued (newer than the newest) is a gap");

    /* epochs: an id of another birth never names a message here */
    fetch(ps, "c", "old:8", &g);
    OK(g.gap && g.n == 4 && strcmp(g.ids[0], "ep:7") == 0, "another epoch's id is a gap, whatever its number");
    STREQ(g.first, "ep:7", "its gap names the first held");
    fetch(ps, "c", "ep:8-0", &g);
    OK(g.gap && g.n == 4, "a stream id (another backend's form) is a gap");
    fetch(ps, "c", "8", &g);
    OK(g.gap && g.n == 4, "a bare number (an id from before epochs) is a gap");
    IS(fetch(ps, "c", "abc", &g), 0, "garbage is not an error");
    OK(g.gap && g.n == 4, "garbage is a gap, with everything held");
    fetch(ps, "c", "", &g);
    OK(g.gap && g.n == 4, "an empty id is a gap");
    fetch(ps, "empty", "old:3", &g);
    OK(g.gap && g.n == 0 && g.first[0] == 0, "a foreign id on an empty channel: a gap, nothing held");
    STREQ(g.last, "ep:0", "and its last is EPOCH:0");
    IS(fetch(ps, "bad/name", "0", &g), PW_ENET_CHANNEL, "bad channel refused");

    /* pages */
    fetchn(ps, "c", "0", 2, 1u << 20, &g);
    OK(g.n == 2 && !g.end && strcmp(g.ids[1], "ep:8") == 0, "a page of 2 messages: not the end");
    fetchn(ps, "c", "ep:8", 2, 1u << 20, &g);
    OK(g.n == 2 && g.end && !g.gap, "the next page reaches the end");
    fetchn(ps, "c", "ep:6", 100, 1, &g);
    OK(g.n == 1 && !g.end, "a byte budget smaller than a message still gives one");
    fetchn(ps, "c", "ep:6", 100, 2, &g);
    OK(g.n == 2, "x is 1 byte: 2 bytes give 2 messages");

    struct pw_pubsub *ps2 = pw_backlog_new(4, NULL);
    OK(ps2 && strlen(pw_backlog_epoch(ps2)) == PW_EPOCH_LEN, "a fresh epoch");
    OK(strcmp(pw_backlog_epoch(ps2), "ep") != 0, "a restart is a new epoch");
    pub(ps2, "c", "new");
    fetch(ps2, "c", "ep:1", &g);
    OK(g.gap && g.n == 1, "the old server's id 1 is a gap on the new one, never its message 1");
    char hw[64];
    IS(ps2->ops->health(ps2, hw, sizeof hw), 0, "the embedded backend is healthy");
    ps2->ops->cancel(ps2, &g); /* nothing pending: nothing happens */
    ps2->ops->destroy(ps2);
    OK(pw_backlog_new(4, "Bad") == NULL, "a bad epoch is refused");

    /* fan-out: every subscriber gets the same message object */
    struct sub a = {{deliver, 0, 0, 0}, 0, 0}, b = {{deliver, 0, 0, 0}, 0, 0};
    IS(ps->ops->subscribe(ps, "c", 1, &a.s), 0, "subscribe a");
    IS(ps->ops->subscribe(ps, "c", 1, &b.s), 0, "subscribe b");
    IS(ps->ops->subscribe(ps, "no/pe", 5, &b.s), PW_ENET_CHANNEL, "subscribe to a bad name fails");
    pub(ps, "c", "fan");
    OK(a.n == 1 && b.n == 1, "both subscribers got it");
    OK(a.last == b.last, "shared, not copied");
    STREQ(a.last->id, "ep:11", "live id continues");
    IS(a.last->refs, 3, "ring + two subscribers hold references");
    ps->ops->unsubscribe(ps, &a.s);
    pub(ps, "c", "after");
    OK(a.n == 1 && b.n == 2, "unsubscribed a gets nothing more");
    ps->ops->unsubscribe(ps, &b.s);
    pw_msg_unref(a.last);
    pw_msg_unref(b.last);

    /* channels with neither messages nor subscribers are forgotten */
    struct sub e = {{deliver, 0, 0, 0}, 0, 0};
    ps->ops->subscribe(ps, "empty", 5, &e.s);
    ps->ops->unsubscribe(ps, &e.s);
    size_t nch = 0;
    struct pw_msg *bin = pw_msg_new("bin", 3, "blob", "\0\1\2", 3, 1);
    ps->ops->publish(ps, bin, NULL, NULL);
    OK(bin->binary && bin->len == 3 && strcmp(bin->event, "blob") == 0 &&
           strcmp(bin->channel, "bin") == 0, "binary message keeps bytes, event, channel");
    void count(void *ud, const char *ch, size_t msgs, size_t bytes, size_t subs);
    ps->ops->each_channel(ps, &nch, count);
    IS(nch, 3, "channels c, d, bin (not the empty one)");

    ps->ops->destroy(ps);
    OK(pw_backlog_new(0, NULL) == NULL, "a backlog of 0 is refused");

    test_budget();
    test_ttl();
    test_max_channels();
    test_replicas();
    return tap_done();
}

void count(void *ud, const char *ch, size_t msgs, size_t bytes, size_t subs)
{
    (void)ch, (void)msgs, (void)bytes, (void)subs;
    (*(size_t *)ud)++;
}
