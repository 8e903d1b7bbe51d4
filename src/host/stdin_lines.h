/* stdin_lines.h — standard input as records on a libuv loop, whatever it
 * is: a terminal, a pipe or socket (read as a stream), or a regular file or
 * device (read through the loop's thread pool, since epoll cannot watch
 * files).  Records are split by proto/lines.h: lines, NUL-terminated
 * records, or raw chunks.  Used by `serve` (stdin lines are published) and
 * `connect` (stdin lines are sent).  Never prints.
 *
 * Life: pw_stdin_start → on_line… → on_end once (EOF or a read error) →
 * pw_stdin_close.  pw_stdin_close may come at any time, inside a callback
 * too; no callback follows it.  The struct is the owner's: it must stay in
 * place until the loop has run once more after pw_stdin_close (the handle
 * closes there).
 */
#ifndef PW_STDIN_LINES_H
#define PW_STDIN_LINES_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proto/lines.h"

#define PW_STDIN_CHUNK 65536 /* one read; a --binary record in connect */

enum pw_stdin_kind { PW_IN_NONE, PW_IN_TTY, PW_IN_PIPE, PW_IN_FILE };

struct pw_stdin;

struct pw_stdin_cb {
    /* One record (lines.h: delimiter and, for lines, a trailing CR gone);
     * valid during the call only. */
    void (*on_line)(struct pw_stdin *in, const uint8_t *p, size_t n);
    /* A record longer than max_line: dropped up to its delimiter (may be
     * NULL). */
    void (*on_long)(struct pw_stdin *in, size_t max);
    /* End of input: err 0 at EOF, else a libuv error code.  A last record
     * without its delimiter was delivered before.  Once. */
    void (*on_end)(struct pw_stdin *in, int err);
    /* The records of one read are delivered (may be NULL): a place for
     * what need not be done per record (back-pressure). */
    void (*on_read)(struct pw_stdin *in);
};

struct pw_stdin_opts {
    int fd;          /* 0 */
    int delim;       /* '\n', '\0' or PW_LINES_RAW */
    size_t max_line; /* longest record, 0: no limit */
};

struct pw_stdin {
    /* public, read-only */
    int kind;        /* PW_IN_*: NONE before start and after close */
    int paused, ended;
    void *data;      /* the owner's */
    /* private */
    uv_loop_t *loop;
    struct pw_stdin_cb cb;
    int fd, closing, in_cb, fs_busy, stopped;
    struct pw_lines lines;
    union {
        uv_tty_t tty;
        uv_pipe_t pipe;
    } h;
    uv_fs_t fs;
    char buf[PW_STDIN_CHUNK];
};

/* Starts reading.  0, or a libuv error (nothing to close then). */
int pw_stdin_start(struct pw_stdin *in, uv_loop_t *loop, const struct pw_stdin_opts *o,
                   const struct pw_stdin_cb *cb);
/* Back-pressure: no more reads until resume (the records of a read under
 * way are still delivered). */
void pw_stdin_pause(struct pw_stdin *in);
void pw_stdin_resume(struct pw_stdin *in);
/* Stops for good (a terminal goes back to its mode); idempotent. */
void pw_stdin_close(struct pw_stdin *in);

#endif
