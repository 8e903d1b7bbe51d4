/* test_iptable.c — the per-address table of the abuse limits (iptable.h):
 * entries found again, growth, the bound, what a sweep and a full table
 * drop (never an address with connections), and memory given back. */
#include <stdlib.h>
#include <string.h>

#include "server/iptable.h"
#include "tap.h"

static void addr(uint32_t n, uint8_t a[16])
{
    memset(a, 0, 16);
    a[10] = a[11] = 0xff;
    a[12] = (uint8_t)(n >> 24);
    a[13] = (uint8_t)(n >> 16);
    a[14] = (uint8_t)(n >> 8);
    a[15] = (uint8_t)n;
}

static int keep_odd(const struct pw_ipent *e, void *ud)
{
    (void)ud;
    return e->addr[15] & 1;
}

int main(void)
{
    struct pw_iptable t;
    uint8_t a[16];
    pw_iptable_init(&t, 1000, 42);
    addr(1, a);
    OK(pw_iptable_get(&t, a, 0) == NULL, "get: missing without create is NULL");
    struct pw_ipent *e = pw_iptable_get(&t, a, 1);
    OK(e && e->conns == 0 && memcmp(e->addr, a, 16) == 0 && t.count == 1, "get: create adds a zeroed entry");
    e->conns = 3;
    OK(pw_iptable_get(&t, a, 1) && pw_iptable_get(&t, a, 0)->conns == 3, "get: the same entry again");
    /* growth keeps everything */
    for (uint32_t i = 2; i <= 900; i++) {
        addr(i, a);
        e = pw_iptable_get(&t, a, 1);
        e->conns = i % 3 == 0; /* a third have a connection */
    }
    int all = t.count == 900;
    for (uint32_t i = 2; i <= 900 && all; i++) {
        addr(i, a);
        e = pw_iptable_get(&t, a, 0);
        all = e && e->conns == (i % 3 == 0);
    }
    OK(all, "growth: 900 addresses all found again with their counts");
    OK(t.nslots >= 2 * t.count, "growth: at most half the slots used (%zu of %zu)", t.count, t.nslots);
    /* a sweep drops idle entries keep() rejects, never ones with connections */
    addr(1, a);
    size_t before = t.count, dropped = pw_iptable_sweep(&t, keep_odd, NULL);
    int ok = pw_iptable_get(&t, a, 0) != NULL; /* 1: 3 connections */
    for (uint32_t i = 2; i <= 900; i++) {
        addr(i, a);
        int want = i % 3 == 0 || (i & 1);
        ok = ok && (pw_iptable_get(&t, a, 0) != NULL) == want;
    }
    OK(ok && t.count == before - dropped, "sweep: idle even addresses went, %zu dropped, the rest stayed", dropped);
    /* the bound: a table full of idle entries forgets them all for a new one */
    pw_iptable_free(&t);
    pw_iptable_init(&t, 100, 7);
    for (uint32_t i = 0; i < 100; i++) {
        addr(1000 + i, a);
        pw_iptable_get(&t, a, 1)->conns = i < 10; /* 10 busy, 90 idle */
    }
    addr(5000, a);
    e = pw_iptable_get(&t, a, 1);
    OK(e && t.count == 11 && t.evicted == 90, "bound: a new address in a full table evicts the 90 idle ones");
    e->conns = 1;
    addr(1000, a);
    OK(pw_iptable_get(&t, a, 0) && pw_iptable_get(&t, a, 0)->conns == 1, "bound: addresses with connections stay");
    /* full of busy addresses: no room, NULL, nothing else lost */
    for (uint32_t i = 0; t.count < 100; i++) {
        addr(9000 + i, a);
        pw_iptable_get(&t, a, 1)->conns = 1;
    }
    addr(99999, a);
    OK(pw_iptable_get(&t, a, 1) == NULL && t.count == 100, "bound: 100 busy addresses leave no room: NULL");
    /* a flood of 100 000 addresses stays within the bound, and memory comes back */
    pw_iptable_free(&t);
    pw_iptable_init(&t, 4096, 9);
    size_t most = 0;
    for (uint32_t i = 0; i < 100000; i++) {
        addr(i, a);
        if (!pw_iptable_get(&t, a, 1))
            break;
        if (t.nslots > most)
            most = t.nslots;
    }
    OK(t.count <= 4096 && most <= 8192, "flood: 100000 addresses, at most 4096 held, %zu slots at most", most);
    pw_iptable_sweep(&t, NULL, NULL);
    OK(t.count == 0 && t.nslots <= 64, "flood: a sweep afterwards gives the slots back (%zu)", t.nslots);
    pw_iptable_free(&t);
    return tap_done();
}
