/* transcript.h — the transcript format of `connect --record`, `serve
 * --record` and `replay` (pushwire-replay(1)): JSON Lines, one message a line.
 *
 *   {"t":0.25,"dir":"in","type":"text","id":"7","event":"message","data":"hi"}
 *
 *   t         number >= 0, seconds since the start of the recording; never
 *             smaller than the t of the line before (required)
 *   dir       "in" (the recorder received it) or "out" (it sent it) (required)
 *   type      "text" or "binary" (a WebSocket message), "event" (an SSE,
 *             long-polling or /pub message: text with an id and an event
 *             name) (required)
 *   data      string (required).  With "encoding":"base64" it holds the
 *             bytes in standard padded base64 (RFC 4648 §4); otherwise it is
 *             the text itself.
 *   id        string or null: the message id, when there is one
 *   event     string or null: the event name; absent/null means "message"
 *   encoding  absent, null or "base64"
 *   channel   string or null: the channel (serve --record writes it)
 *
 * Other members are ignored (later versions may add some).  Empty lines are
 * skipped.  Each line is one JSON object (RFC 8259), at most max_line bytes.
 *
 * The reader streams: it keeps one line in memory, never the file.  Errors
 * carry the 1-based line number and a sentence saying what is wrong.
 *
 * Error range -750..-799.
 */
#ifndef PW_TRANSCRIPT_H
#define PW_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "json.h"
#include "pw_err.h"

#define PW_TRANSCRIPT_ERRORS(X)                                                   \
    X(TR_JSON, -750, "pushwire transcript", "line is not valid JSON")            \
    X(TR_OBJECT, -751, "pushwire transcript", "line is not a JSON object")       \
    X(TR_MISSING, -752, "pushwire transcript", "a required field is missing")    \
    X(TR_TYPE, -753, "pushwire transcript", "a field has the wrong JSON type")   \
    X(TR_TIME, -754, "pushwire transcript", "t is negative or not finite")       \
    X(TR_BACKWARDS, -755, "pushwire transcript", "t goes backwards")             \
    X(TR_DIR, -756, "pushwire transcript", "dir is neither \"in\" nor \"out\"")  \
    X(TR_KIND, -757, "pushwire transcript", "unknown message type")              \
    X(TR_ENCODING, -758, "pushwire transcript", "unknown encoding")              \
    X(TR_BASE64, -759, "pushwire transcript", "data is not valid base64")        \
    X(TR_EVENT, -760, "pushwire transcript", "event name is empty or has CR, LF or NUL") \
    X(TR_LINE, -761, "pushwire transcript (limit)", "line longer than the limit") \
    X(TR_READ, -762, NULL, "cannot read the transcript")

enum { PW_TRANSCRIPT_ERRORS(PW_ERR_ENUM) };

enum pw_trec_type { PW_TREC_TEXT, PW_TREC_BINARY, PW_TREC_EVENT };

/* One message.  In a record from the reader every pointer points into the
 * reader and lives until the next pw_treader_next/free. */
struct pw_trec {
    double t;
    int out;                  /* 1: dir "out", 0: dir "in" */
    enum pw_trec_type type;
    const char *id;           /* NULL: none */
    const char *event;        /* NULL: "message" */
    const char *channel;      /* NULL: none */
    const uint8_t *data;      /* decoded bytes (base64 undone), NUL after */
    size_t len;
};

const char *pw_trec_type_name(enum pw_trec_type t); /* "text", … */

/* ---- writer ---- */

/* Appends one line (with its '\n') for r to b: t with microsecond
 * precision, data base64-encoded for binary messages and for text that is
 * not valid UTF-8 (so nothing is lost).  0 or a buffer error (b unchanged). */
int pw_trec_write(struct pw_buf *b, const struct pw_trec *r);

/* ---- reader ---- */

#define PW_TREADER_MAX_LINE_DEFAULT (16u << 20)
/* pw_treader_next in live mode: no whole line yet (nothing is lost) */
#define PW_TREADER_WAIT 2

struct pw_treader {
    /* public, read-only */
    unsigned long line;       /* number of the last line read (1-based) */
    char why[256];            /* after an error: what is wrong, for the user */
    /* private */
    FILE *f;
    size_t max_line;
    double last_t;
    int err;                  /* sticky */
    struct pw_buf cur;        /* the current line */
    struct pw_buf data;       /* decoded data of the current record */
    uint8_t blk[65536];       /* read-ahead */
    size_t blk_pos, blk_len;
    int eof;
    int fd;                   /* live mode: read(2) on it, once per pw_treader_readable */
    int live, may_read, resume;
    struct pw_json *root;
};

/* f stays the caller's (not closed).  max_line 0 means the default. */
void pw_treader_init(struct pw_treader *r, FILE *f, size_t max_line);
/* 1 and *rec filled; 0 at the end of the file; PW_TREADER_WAIT (live mode
 * only, below); or a negative PW_ETR_* code with r->line and r->why set.
 * Errors are sticky. */
int pw_treader_next(struct pw_treader *r, struct pw_trec *rec);
/* Live mode, for a pipe, FIFO, socket or terminal read as it is written:
 * the reader takes fd with read(2) instead of f, and reads at most once
 * after each pw_treader_readable, so a call never blocks.  pw_treader_next
 * then also returns PW_TREADER_WAIT: call pw_treader_readable when fd is
 * readable (poll it), and pw_treader_next again. */
void pw_treader_live(struct pw_treader *r, int fd);
void pw_treader_readable(struct pw_treader *r);
void pw_treader_free(struct pw_treader *r);

/* Parses one line (no '\n') on its own; t is checked against *last_t (which
 * is updated).  Pointers in *rec point into *root (free it with
 * pw_json_free) or into data.  why gets the reason on error. */
int pw_trec_parse(const char *line, size_t n, double *last_t, struct pw_trec *rec,
                  struct pw_json **root, struct pw_buf *data, char *why, size_t whysz);

#endif
