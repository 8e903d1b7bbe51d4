/* serve_record.h — `serve --record FILE` (see serve_record.c). */
#ifndef PW_SERVE_RECORD_H
#define PW_SERVE_RECORD_H

#include <stdio.h>

#include "server/backlog.h"

/* A pub/sub in front of inner (taken: destroyed with it, or at once when
 * this fails) that also writes every message it acknowledges to f (the
 * caller's; flushed per line).  Destroy it with ps->ops->destroy (f stays
 * open).  NULL on out of memory or when inner is NULL. */
struct pw_pubsub *serve_record_new(struct pw_pubsub *inner, FILE *f);
/* 1 once a write to the file failed (recording stopped). */
int serve_record_failed(const struct pw_pubsub *ps);

#endif
