/* test_backlog.c — the embedded backlog: ids, ring wraparound, resume after
 * an id, the gap signal, channel and event name rules, fan-out. */
#include <stdlib.h>
#include <string.h>

#include "server/backlog.h"
#include "host/net.h"
#include "tap.h"

struct got {
    char ids[64][PW_ID_MAX];
    size_t n;
    size_t stop_after; /* 0: never */
};

static int collect(void *ud, struct pw_msg *m)
{
    struct got *g = ud;
    if (g->n < 64)
        strcpy(g->ids[g->n], m->id);
    g->n++;
    return g->stop_after && g->n >= g->stop_after;
}

static void pub(struct pw_pubsub *ps, const char *ch, const char *data)
{
    struct pw_msg *m = pw_msg_new(ch, strlen(ch), NULL, data, strlen(data), 0);
    if (!m || ps->ops->publish(ps, m))
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

static int fetch(struct pw_pubsub *ps, const char *ch, const char *after, struct pw_fetch *f,
                 struct got *g)
{
    memset(g, 0, sizeof *g);
    return ps->ops->fetch_after(ps, ch, strlen(ch), after, f, collect, g);
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

    struct pw_pubsub *ps = pw_backlog_new(4);
    OK(ps != NULL, "backlog created");
    struct pw_fetch f;
    struct got g;

    IS(fetch(ps, "c", NULL, &f, &g), 0, "fetch on an unknown channel works");
    STREQ(f.last, "0", "unknown channel: last id is 0");

    pub(ps, "c", "one");
    pub(ps, "c", "two");
    pub(ps, "d", "other");
    IS(fetch(ps, "c", "0", &f, &g), 0, "fetch after 0");
    IS(g.n, 2, "two messages on c");
    STREQ(g.ids[0], "1", "first id is 1");
    STREQ(g.ids[1], "2", "second id is 2");
    STREQ(f.last, "2", "last id 2");
    IS(f.gap, 0, "no gap after 0 while 1 is kept");
    fetch(ps, "d", "0", &f, &g);
    OK(g.n == 1 && strcmp(g.ids[0], "1") == 0, "ids are per channel");

    fetch(ps, "c", "1", &f, &g);
    OK(g.n == 1 && strcmp(g.ids[0], "2") == 0 && !f.gap, "resume after 1 gives 2");
    fetch(ps, "c", "2", &f, &g);
    OK(g.n == 0 && !f.gap, "resume after the newest gives nothing, no gap");

    for (int i = 3; i <= 10; i++)
        pub(ps, "c", "x");
    fetch(ps, "c", "0", &f, &g);
    IS(g.n, 4, "ring keeps the last 4");
    OK(strcmp(g.ids[0], "7") == 0 && strcmp(g.ids[3], "10") == 0, "kept ids 7..10 in order");
    IS(f.gap, 1, "after 0 with 1..6 gone is a gap");
    STREQ(f.first, "7", "gap reports the first kept id");
    fetch(ps, "c", "6", &f, &g);
    OK(g.n == 4 && !f.gap, "after 6 (oldest kept minus one) is not a gap");
    fetch(ps, "c", "5", &f, &g);
    OK(g.n == 4 && f.gap && strcmp(f.first, "7") == 0, "after 5 is a gap, first 7");
    fetch(ps, "c", "8", &f, &g);
    OK(g.n == 2 && strcmp(g.ids[0], "9") == 0 && strcmp(g.ids[1], "10") == 0,
       "after 8 across the wrapped ring gives 9, 10");
    fetch(ps, "c", "99", &f, &g);
    OK(f.gap && g.n == 4, "an id newer than the newest is a gap (server restarted)");

    memset(&g, 0, sizeof g);
    g.stop_after = 2;
    ps->ops->fetch_after(ps, "c", 1, "0", &f, collect, &g);
    IS(g.n, 2, "callback can stop the fetch");

    IS(fetch(ps, "c", "abc", &f, &g), PW_ENET_ID, "malformed id refused");
    IS(fetch(ps, "c", "", &f, &g), PW_ENET_ID, "empty id refused");
    IS(fetch(ps, "bad/name", "0", &f, &g), PW_ENET_CHANNEL, "bad channel refused");

    /* fan-out: every subscriber gets the same message object */
    struct sub a = {{deliver, 0, 0, 0}, 0, 0}, b = {{deliver, 0, 0, 0}, 0, 0};
    IS(ps->ops->subscribe(ps, "c", 1, &a.s), 0, "subscribe a");
    IS(ps->ops->subscribe(ps, "c", 1, &b.s), 0, "subscribe b");
    IS(ps->ops->subscribe(ps, "no/pe", 5, &b.s), PW_ENET_CHANNEL, "subscribe to a bad name fails");
    pub(ps, "c", "fan");
    OK(a.n == 1 && b.n == 1, "both subscribers got it");
    OK(a.last == b.last, "shared, not copied");
    STREQ(a.last->id, "11", "live id continues");
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
    ps->ops->publish(ps, bin);
    OK(bin->binary && bin->len == 3 && strcmp(bin->event, "blob") == 0 &&
           strcmp(bin->channel, "bin") == 0, "binary message keeps bytes, event, channel");
    void count(void *ud, const char *ch, size_t msgs, size_t bytes, size_t subs);
    ps->ops->each_channel(ps, &nch, count);
    IS(nch, 3, "channels c, d, bin (not the empty one)");

    ps->ops->destroy(ps);
    OK(pw_backlog_new(0) == NULL, "a backlog of 0 is refused");
    return tap_done();
}

void count(void *ud, const char *ch, size_t msgs, size_t bytes, size_t subs)
{
    (void)ch, (void)msgs, (void)bytes, (void)subs;
    (*(size_t *)ud)++;
}
