/* redis_wire.h — the pure parts of the Redis backplane (server/redis.c):
 * what `serve --redis URL` accepts, Redis Cluster's key slots, stream ids,
 * and the notification a publish sends to every node.  Pure: no I/O.
 *
 * Key layout per channel C (docs/REDIS.md): the hash tag {C} keeps a
 * channel's keys on one Cluster slot.
 *   pw:{C}:s   the stream (XADD MAXLEN ~ backlog): fields e (event),
 *              b (0 text, 1 binary), d (data)
 *   pw:{C}:e   the channel's epoch (a string, made with the first message)
 *   pw:{C}:n   the Pub/Sub channel of notifications:
 *              "EPOCH\nMS-SEQ\nB\nEVENT\nDATA" (DATA is the rest, any bytes)
 */
#ifndef PW_REDIS_WIRE_H
#define PW_REDIS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "msgid.h"
#include "pw_err.h"

#define PW_REDIS_ERRORS(X)                                                      \
    X(REDIS_URL, -920, NULL, "a Redis URL is redis://[USER:PASS@]HOST[:PORT][/DB] or unix:///PATH[?db=N]") \
    X(REDIS_TLS, -921, NULL, "rediss:// (TLS to Redis) is not supported: use a TLS tunnel and redis://") \
    X(REDIS_LONG, -922, NULL, "a part of the Redis URL is too long") \
    X(REDIS_NOTE, -923, "docs/REDIS.md", "a notification is EPOCH LF MS-SEQ LF 0|1 LF EVENT LF DATA") \
    X(REDIS_SID, -924, "docs/REDIS.md", "a stream id is MS-SEQ, decimal below 2^64")

enum { PW_REDIS_ERRORS(PW_ERR_ENUM) };

#define PW_REDIS_HOST_MAX 256
#define PW_REDIS_PATH_MAX 108   /* sun_path */
#define PW_REDIS_CRED_MAX 256
#define PW_REDIS_SLOTS 16384

struct pw_redis_url {
    int is_unix;
    char host[PW_REDIS_HOST_MAX];   /* without brackets for IPv6 */
    unsigned port;                  /* 6379 by default */
    char path[PW_REDIS_PATH_MAX];   /* unix: the socket */
    char user[PW_REDIS_CRED_MAX];   /* "" : AUTH PASS alone */
    char pass[PW_REDIS_CRED_MAX];
    int has_pass;
    unsigned db;                    /* SELECT when not 0 */
};

/* Reads a NUL-terminated URL: 0, or PW_EREDIS_URL / _TLS / _LONG (out is
 * zeroed then).  USER and PASS may be percent-encoded. */
int pw_redis_url_parse(const char *s, struct pw_redis_url *out);

/* CRC16 (XMODEM, the Redis Cluster one) of p[0..n). */
uint16_t pw_redis_crc16(const void *p, size_t n);
/* The Cluster slot of a key: CRC16 of its hash tag ({...}, when not empty)
 * or of the whole key, modulo 16384. */
unsigned pw_redis_key_slot(const char *key, size_t n);

/* A stream id "MS-SEQ": 0 or PW_EREDIS_SID. */
int pw_redis_sid_parse(const char *s, size_t n, uint64_t *ms, uint64_t *seq);
/* "MS-SEQ" into out (at least 42 bytes), NUL-terminated; returns its length. */
size_t pw_redis_sid_format(char *out, uint64_t ms, uint64_t seq);

/* A notification, its strings pointing into the payload read. */
struct pw_redis_note {
    char epoch[PW_EPOCH_MAX + 1];
    uint64_t ms, seq;
    int binary;
    const char *event;      /* not NUL-terminated */
    size_t event_len;
    const uint8_t *data;
    size_t len;
};
/* Reads p[0..n): 0 or PW_EREDIS_NOTE / PW_EREDIS_SID. */
int pw_redis_note_parse(const uint8_t *p, size_t n, struct pw_redis_note *out);

#endif
