/* iptable.h — what the server remembers per client address for the abuse
 * limits (--max-conns-per-ip, --max-conn-rate): open connections and a
 * token bucket of new ones, in one open-addressing table with a bound.
 *
 * An attacker with many addresses must not grow it without bound: the table
 * holds at most `max` addresses.  An address with open connections is never
 * dropped (they are counted down when they close); one without is only
 * history, and goes:
 *  - in a sweep (pw_iptable_sweep, the server's tick) once `keep` says its
 *    history is worth nothing (its bucket is full again);
 *  - all at once when an address is added to a full table: then the rate
 *    history of idle addresses is forgotten, which only a flood from more
 *    than `max` addresses can cause (each of those has a full bucket of its
 *    own anyway).  Counted in `evicted`.
 * Slots are keyed by a seeded hash, so addresses cannot be picked to
 * collide.  No libuv: unit-tested alone.
 */
#ifndef PW_IPTABLE_H
#define PW_IPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "proto/auth.h"

struct pw_ipent {
    uint8_t addr[16];         /* IPv4 mapped (auth.h) */
    uint32_t conns;           /* open connections counted under it */
    uint8_t used;             /* private */
    struct pw_bucket rate;    /* new connections (--max-conn-rate) */
};

struct pw_iptable {
    /* read-only */
    size_t count;             /* addresses held */
    size_t max;               /* at most */
    uint64_t evicted;         /* idle addresses dropped because the table was full */
    /* private */
    struct pw_ipent *slot;
    size_t nslots;            /* a power of two, at least 2 * count */
    uint64_t seed;
};

/* An empty table of at most max addresses (>= 1); seed keys the hash. */
void pw_iptable_init(struct pw_iptable *t, size_t max, uint64_t seed);
void pw_iptable_free(struct pw_iptable *t);
/* The entry of addr; with create, added (zeroed) when missing.  NULL when
 * missing (create 0), out of memory, or every one of `max` addresses has
 * connections open.  The pointer is valid until the next call that may
 * create or sweep. */
struct pw_ipent *pw_iptable_get(struct pw_iptable *t, const uint8_t addr[16], int create);
/* Drops every address without connections for which keep(e, ud) is 0 (keep
 * NULL: every such address).  Returns how many went. */
size_t pw_iptable_sweep(struct pw_iptable *t, int (*keep)(const struct pw_ipent *e, void *ud), void *ud);

#endif
