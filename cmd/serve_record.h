/* serve_record.h — `serve --record FILE` (see serve_record.c). */
#ifndef PW_SERVE_RECORD_H
#define PW_SERVE_RECORD_H

#include <stdio.h>

#include "server/backlog.h"

/* An embedded backlog keeping `keep` messages per channel that also writes
 * every published message to f (the caller's; flushed per line).  Destroy
 * it with ps->ops->destroy (f stays open).  NULL on out of memory. */
struct pw_pubsub *serve_record_new(size_t keep, FILE *f);
/* 1 once a write to the file failed (recording stopped). */
int serve_record_failed(const struct pw_pubsub *ps);

#endif
