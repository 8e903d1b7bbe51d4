/* msgid.h — message ids: what they look like, reading them back, ordering
 * them.  Clients treat ids as opaque strings; the server and its backends
 * read them here, and nowhere else.
 *
 * The forms:
 *   0               before everything: a resume after it asks for all a
 *                   channel holds, whatever its epoch
 *   EPOCH:SEQ       the embedded backlog: "k3x9q2mv7c1a:42"
 *   EPOCH:MS-SEQ    a Redis Streams backend: the stream's own id after the
 *                   epoch, "k3x9q2mv7c1a:1718000000000-0"
 * EPOCH is 1-16 characters of [a-z0-9] (pw_msgid_epoch_new makes 12),
 * fixed when a channel's stream is born: an id of another epoch can never be
 * mistaken for one of this stream, whatever its numbers.  SEQ and MS are
 * decimal, 0 or without leading zeros, below 2^64.  "EPOCH:0" is the place
 * before the first message of that epoch (the cursor of an empty channel).
 * Every character is unreserved in a URL but ':' (allowed as is in a query,
 * percent-encoded as %3A by many clients); none needs escaping in JSON or an
 * SSE `id:` line.  An id is at most PW_ID_MAX - 1 = 47 bytes: the embedded
 * form is at most 12+1+20 = 33, a Redis one 12+1+13+1+20 = 47.
 *
 * Ids compare only within one epoch: by (MS, SEQ), the plain form having
 * MS 0; "0" comes before every id.  Ids of two epochs are not ordered.
 *
 * Pure: no I/O.  pw_msgid_epoch_new reads OpenSSL's RAND and the clock.
 */
#ifndef PW_MSGID_H
#define PW_MSGID_H

#include <stddef.h>
#include <stdint.h>

#include "pw_err.h"

#define PW_ID_MAX 48       /* bytes of an id, its NUL included */
#define PW_EPOCH_MAX 16    /* characters of an epoch the parser takes */
#define PW_EPOCH_LEN 12    /* characters of an epoch pw_msgid_epoch_new makes */

#define PW_MSGID_ERRORS(X)                                                     \
    X(MSGID_EMPTY, -900, "docs/PROTOCOL.md#ids-and-resume", "an id is empty")   \
    X(MSGID_LONG, -901, "docs/PROTOCOL.md#ids-and-resume", "an id is longer than 47 bytes") \
    X(MSGID_FORM, -902, "docs/PROTOCOL.md#ids-and-resume", "an id is 0 or EPOCH:SEQ (or EPOCH:MS-SEQ)") \
    X(MSGID_EPOCH, -903, "docs/PROTOCOL.md#ids-and-resume", "an epoch is 1-16 characters of [a-z0-9]") \
    X(MSGID_NUMBER, -904, "docs/PROTOCOL.md#ids-and-resume", "a sequence is decimal, no leading zeros, below 2^64")

enum { PW_MSGID_ERRORS(PW_ERR_ENUM) };

enum pw_msgid_form {
    PW_MSGID_START = 0,    /* "0" */
    PW_MSGID_SEQ,          /* EPOCH:SEQ */
    PW_MSGID_STREAM,       /* EPOCH:MS-SEQ */
};

struct pw_msgid {
    uint8_t form;                     /* enum pw_msgid_form */
    uint8_t epoch_len;                /* 0 for START */
    char epoch[PW_EPOCH_MAX + 1];     /* NUL-terminated; "" for START */
    uint64_t ms;                      /* STREAM only; 0 otherwise */
    uint64_t seq;
};

/* Reads s[0..len) (no NUL needed, none allowed inside): 0, or a negative
 * PW_EMSGID_* naming the rule broken; out is zeroed then. */
int pw_msgid_parse(const char *s, size_t len, struct pw_msgid *out);

/* Writes the id into out, NUL-terminated; returns its length (< PW_ID_MAX),
 * or 0 if id is not one pw_msgid_parse would give back (a bad epoch). */
size_t pw_msgid_format(char out[PW_ID_MAX], const struct pw_msgid *id);

/* Shorthands for the plain form: {SEQ, epoch, 0, seq}.  epoch must be valid. */
struct pw_msgid pw_msgid_seq(const char *epoch, uint64_t seq);

/* 1 if a and b belong to one epoch, so pw_msgid_cmp orders them: both of
 * the same EPOCH, or either is "0". */
int pw_msgid_same_epoch(const struct pw_msgid *a, const struct pw_msgid *b);

/* <0, 0, >0 as a is before, the same as, after b; only meaningful when
 * pw_msgid_same_epoch(a, b). */
int pw_msgid_cmp(const struct pw_msgid *a, const struct pw_msgid *b);

/* 1 if the id s (slen bytes) names epoch e (an id "E:…").  No string
 * call: it runs once per live delivery. */
int pw_msgid_has_epoch(const char *s, size_t slen, const char *e, size_t elen);

/* A fresh epoch: PW_EPOCH_LEN characters of [a-z0-9], NUL-terminated, from
 * the time (seconds, 6 characters) and random bits (6 characters).
 * pw_msgid_epoch_make is the same from given inputs, for tests. */
int pw_msgid_epoch_new(char out[PW_EPOCH_LEN + 1]);           /* 0 or PW_EIO */
void pw_msgid_epoch_make(char out[PW_EPOCH_LEN + 1], uint64_t seconds, uint64_t random);

/* 1 if e[0..len) is a valid epoch. */
int pw_msgid_epoch_valid(const char *e, size_t len);

/* Decimal digits of v into p (at least 20 bytes free, no NUL); returns how many. */
size_t pw_dec64(char *p, uint64_t v);

#endif
