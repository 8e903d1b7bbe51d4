/* test_backlog.c — the embedded backlog: ids and epochs, ring wraparound,
 * pages after an id, the gap (old, foreign, never issued, unreadable ids),
 * acknowledged publishes, channel and event name rules, fan-out. */
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
    return tap_done();
}

void count(void *ud, const char *ch, size_t msgs, size_t bytes, size_t subs)
{
    (void)ch, (void)msgs, (void)bytes, (void)subs;
    (*(size_t *)ud)++;
}
