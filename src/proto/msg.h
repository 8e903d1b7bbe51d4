/* msg.h — the message model shared by every transport and backend: an
 * immutable, reference-counted message (channel, id, event, data) with its
 * cached wire encodings, and the rules for channel and event names.
 *
 * Messages are immutable once published: the backlog ring holds one
 * reference, and every subscriber queue that still has to send it holds one
 * more; no subscriber copies the bytes.  Single-threaded (one event loop):
 * counts are plain integers.  Ids are opaque strings to clients; the server
 * reads them with msgid.h.
 */
#ifndef PW_MSG_H
#define PW_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "msgid.h"
#include "pw_err.h"

#define PW_CHANNEL_MAX 128
#define PW_EVENT_MAX 128
/* PW_ID_MAX (msgid.h): 48, an id and its NUL */

/* Number of cached wire encodings a message can carry (see pw_msg.enc). */
#define PW_MSG_NENC 6

struct pw_msg {
    uint32_t refs;            /* private */
    uint8_t binary;           /* 1: came in as a binary WebSocket message */
    uint8_t id_len, event_len, channel_len;
    uint64_t ms, seq;         /* the id's numbers (msgid.h), to order ids of one epoch */
    size_t len;               /* data bytes */
    const char *id;           /* NUL-terminated, points into this allocation */
    const char *event;        /* NUL-terminated, "message" by default */
    const char *channel;      /* NUL-terminated */
    /* Lazily built wire encodings (SSE event, WebSocket frame, …), owned by
     * the message and freed with it.  The server decides what slot means
     * what; a slot once set never changes (the message stays immutable). */
    struct { uint8_t *p; size_t len; } enc[PW_MSG_NENC];
    uint8_t data[];           /* len bytes + NUL, then id, event, channel */
};

/* New message with one reference, or NULL (out of memory).  event NULL or
 * "" means "message". */
struct pw_msg *pw_msg_new(const char *channel, size_t chlen, const char *event,
                          const void *data, size_t len, int binary);
static inline struct pw_msg *pw_msg_ref(struct pw_msg *m) { m->refs++; return m; }
void pw_msg_unref(struct pw_msg *m);
/* Sets the id (and ms, seq) from id: backends only, before the message is
 * shared.  0, or PW_EINVAL for an id pw_msgid_format refuses. */
int pw_msg_set_id(struct pw_msg *m, const struct pw_msgid *id);

/* 1 if name[0..len) is a valid channel name: 1–128 of [A-Za-z0-9._~-]. */
int pw_channel_valid(const char *name, size_t len);
/* 1 if an event name is acceptable: 1–128 bytes, no CR, LF or NUL. */
int pw_event_valid(const char *name, size_t len);

#endif
