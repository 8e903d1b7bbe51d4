/* hub.h — channels shared by the worker threads of `serve --workers N`.
 *
 * Each worker keeps its own embedded backlog (backlog.h) with the same
 * epoch, and the hub keeps them identical: every publish, from any worker,
 * is put under one mutex into every worker's queue, so every worker applies
 * the same publishes in the same order and its backlog gives each message
 * the same id.  A worker's messages are its own copies (pw_msg counts stay
 * plain integers); only the queued items (bytes, immutable) cross threads.
 *
 * Every limit of the backlog holds: the copies are replicas (backlog.h),
 * whose clock is the time the hub stamps on each item, so a budget, an age
 * or a channel cap cuts each copy at the same point of the sequence.
 *
 * A worker sees its pub/sub through pw_hub_worker(): the backlog's
 * interface, with publish going through the hub, and fetch first applying
 * what is queued for the worker (so a resume with an id another worker
 * already sent is answered exactly).
 *
 * Threads: pw_hub_new and pw_hub_free on the main thread before the workers
 * start and after they have ended; everything else on the worker's loop.
 */
#ifndef PW_HUB_H
#define PW_HUB_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct pw_hub;
struct pw_pubsub;
struct pw_backlog_limits;

/* A hub for n workers (>= 2), each backlog made with lim (copied).  NULL on
 * out of memory. */
struct pw_hub *pw_hub_new(unsigned n, const struct pw_backlog_limits *lim);
void pw_hub_free(struct pw_hub *h);

/* Worker i's pub/sub on its loop (its uv_async handle is unref'd, so it
 * does not keep the loop alive; the server's uv_walk closes it).  Owned by
 * the hub.  NULL on out of memory. */
struct pw_pubsub *pw_hub_worker(struct pw_hub *h, unsigned i, uv_loop_t *loop);
/* Worker i's tick: when nothing was queued for HUB_TICK_MS, the time is
 * queued for every worker (each replica's clock moves only with what it
 * applies, so message ages are cut at the same point everywhere), then
 * what is queued for i is applied. */
void pw_hub_tick(struct pw_hub *h, unsigned i);
/* Worker i stops taking publishes (before its loop closes its handles):
 * the others stop queueing for it and stop waking it. */
void pw_hub_leave(struct pw_hub *h, unsigned i);

/* Counters each worker shares for /metrics (summed by the one asked). */
#define PW_HUB_NCOUNT 32
void pw_hub_counts_put(struct pw_hub *h, unsigned i, const uint64_t c[PW_HUB_NCOUNT]);
/* Adds every other worker's last counts into c. */
void pw_hub_counts_others(struct pw_hub *h, unsigned i, uint64_t c[PW_HUB_NCOUNT]);
/* Worker j's last counts (what it put). */
void pw_hub_counts_of(struct pw_hub *h, unsigned j, uint64_t c[PW_HUB_NCOUNT]);
unsigned pw_hub_workers(const struct pw_hub *h);
/* Connection numbers, unique over the workers (the log's #N). */
uint64_t pw_hub_next_id(struct pw_hub *h);
/* Open connections over all workers, for --max-conns: adds d, returns the new total. */
long pw_hub_conns_add(struct pw_hub *h, long d);
/* Serializes log lines of all workers. */
void pw_hub_log_lock(struct pw_hub *h, int lock);

#endif
