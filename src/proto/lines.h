/* lines.h — bytes in chunks → records: lines (a CR before the LF, or at the
 * very end, is removed), NUL-terminated records (`find -print0`), or each
 * chunk as it came (raw).  Pure: no I/O; the caller reads and feeds.
 *
 * A record that is whole inside one chunk is handed over in place (no copy);
 * only a record split across chunks is gathered in `part`, which never holds
 * more than `max` bytes and a CR.  A record longer than `max` (the CR that
 * goes not counted) is not delivered: its
 * bytes are dropped up to the next delimiter and on_long says so once per
 * record.
 */
#ifndef PW_LINES_H
#define PW_LINES_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define PW_LINES_RAW (-1) /* delim: every chunk is one record */

struct pw_lines_cb {
    /* One record without its delimiter; `p` is valid during the call only.
     * Return 0 to go on, nonzero to stop feeding (pw_lines_feed returns it). */
    int (*on_line)(void *ud, const uint8_t *p, size_t n);
    /* A record grew past max (may be NULL: dropped silently).  Return as
     * on_line. */
    int (*on_long)(void *ud, size_t max);
};

struct pw_lines {
    /* private */
    int delim;          /* '\n', '\0' or PW_LINES_RAW */
    size_t max;         /* longest record, delimiter (and a CR before it) excluded */
    int overlong;       /* the record being read passed max: skipping to its end */
    struct pw_buf part; /* a record begun in an earlier chunk */
};

/* max 0: no limit but memory. */
void pw_lines_init(struct pw_lines *l, int delim, size_t max);
/* Delivers every record completed by `p`, keeps the unfinished rest.
 * 0, a callback's nonzero return (the rest of the chunk is then dropped),
 * or PW_ENOMEM. */
int pw_lines_feed(struct pw_lines *l, const uint8_t *p, size_t n, const struct pw_lines_cb *cb,
                  void *ud);
/* End of input: a last record without a delimiter is delivered (an empty
 * one is not).  Returns as pw_lines_feed. */
int pw_lines_end(struct pw_lines *l, const struct pw_lines_cb *cb, void *ud);
void pw_lines_free(struct pw_lines *l);

#endif
