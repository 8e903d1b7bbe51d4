/* stdin_lines.c — standard input as records on a libuv loop.  See
 * stdin_lines.h. */
#include <string.h>

#include "stdin_lines.h"

/* ---- records ------------------------------------------------------------ */

static int pw__in_line(void *ud, const uint8_t *p, size_t n)
{
    struct pw_stdin *in = ud;
    in->cb.on_line(in, p, n);
    return in->closing; /* closed inside the callback: deliver no more */
}

static int pw__in_long(void *ud, size_t max)
{
    struct pw_stdin *in = ud;
    if (in->cb.on_long)
        in->cb.on_long(in, max);
    return in->closing;
}

static const struct pw_lines_cb pw__in_lines_cb = {pw__in_line, pw__in_long};

/* after a delivery: a close that came inside it frees the splitter now */
static void pw__in_after(struct pw_stdin *in)
{
    if (--in->in_cb == 0 && in->closing)
        pw_lines_free(&in->lines);
}

static void pw__in_records(struct pw_stdin *in, const char *p, size_t n)
{
    in->in_cb++;
    pw_lines_feed(&in->lines, (const uint8_t *)p, n, &pw__in_lines_cb, in);
    if (!in->closing && in->cb.on_read)
        in->cb.on_read(in);
    pw__in_after(in);
}

static void pw__in_end(struct pw_stdin *in, int err)
{
    if (in->ended || in->closing)
        return;
    in->ended = 1;
    in->in_cb++;
    pw_lines_end(&in->lines, &pw__in_lines_cb, in);
    if (!in->closing)
        in->cb.on_end(in, err);
    pw__in_after(in);
}

/* ---- a terminal, a pipe or a socket -------------------------------------- */

static void pw__in_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct pw_stdin *in = h->data;
    (void)hint;
    *b = uv_buf_init(in->buf, sizeof in->buf);
}

static void pw__in_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct pw_stdin *in = s->data;
    if (in->closing || in->ended)
        return;
    if (n > 0) {
        pw__in_records(in, b->base, (size_t)n);
    } else if (n < 0) {
        uv_read_stop(s);
        pw__in_end(in, n == UV_EOF ? 0 : (int)n);
    }
}

static uv_stream_t *pw__in_stream(struct pw_stdin *in)
{
    return in->kind == PW_IN_TTY ? (uv_stream_t *)&in->h.tty : (uv_stream_t *)&in->h.pipe;
}

/* ---- a file: the thread pool ----------------------------------------------- */

static void pw__in_fs_cb(uv_fs_t *req);

static int pw__in_fs_next(struct pw_stdin *in)
{
    if (in->fs_busy || in->closing || in->ended || in->paused)
        return 0;
    uv_buf_t b = uv_buf_init(in->buf, sizeof in->buf);
    in->fs.data = in;
    int rc = uv_fs_read(in->loop, &in->fs, in->fd, &b, 1, -1, pw__in_fs_cb);
    in->fs_busy = rc == 0;
    return rc;
}

static void pw__in_fs_cb(uv_fs_t *req)
{
    struct pw_stdin *in = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    in->fs_busy = 0;
    if (in->closing)
        return;
    if (n > 0) {
        pw__in_records(in, in->buf, (size_t)n);
        int rc = pw__in_fs_next(in);
        if (rc)
            pw__in_end(in, rc);
        return;
    }
    pw__in_end(in, (int)n);
}

/* ---- the interface ---------------------------------------------------------- */

/* a terminal or a pipe as a stream; 0, or why not (then fall back to reads) */
static int pw__in_open_stream(struct pw_stdin *in, uv_handle_type t)
{
    int rc;
    uv_handle_t *h = (uv_handle_t *)&in->h;
    if (t == UV_TTY) {
        rc = uv_tty_init(in->loop, &in->h.tty, in->fd, 1);
        in->kind = PW_IN_TTY;
    } else if (t == UV_NAMED_PIPE || t == UV_TCP) {
        rc = uv_pipe_init(in->loop, &in->h.pipe, 0);
        if (rc == 0 && (rc = uv_pipe_open(&in->h.pipe, in->fd)) != 0)
            uv_close(h, NULL);
        in->kind = PW_IN_PIPE;
    } else {
        return UV_EINVAL;
    }
    if (rc) {
        in->kind = PW_IN_NONE;
        return rc;
    }
    h->data = in;
    rc = uv_read_start(pw__in_stream(in), pw__in_alloc, pw__in_read);
    if (rc) {
        uv_close(h, NULL);
        in->kind = PW_IN_NONE;
    }
    return rc;
}

int pw_stdin_start(struct pw_stdin *in, uv_loop_t *loop, const struct pw_stdin_opts *o,
                   const struct pw_stdin_cb *cb)
{
    in->loop = loop;
    in->cb = *cb;
    in->fd = o->fd;
    in->kind = PW_IN_NONE;
    in->paused = in->ended = in->closing = in->in_cb = in->fs_busy = 0;
    pw_lines_init(&in->lines, o->delim, o->max_line);
    if (pw__in_open_stream(in, uv_guess_handle(o->fd)) == 0)
        return 0;
    in->kind = PW_IN_FILE;
    int rc = pw__in_fs_next(in);
    if (rc) {
        in->kind = PW_IN_NONE;
        pw_lines_free(&in->lines);
    }
    return rc;
}

void pw_stdin_pause(struct pw_stdin *in)
{
    if (in->paused || in->closing || in->ended)
        return;
    in->paused = 1;
    if (in->kind == PW_IN_TTY || in->kind == PW_IN_PIPE)
        uv_read_stop(pw__in_stream(in));
}

void pw_stdin_resume(struct pw_stdin *in)
{
    if (!in->paused || in->closing || in->ended)
        return;
    in->paused = 0;
    int rc = 0;
    if (in->kind == PW_IN_TTY || in->kind == PW_IN_PIPE)
        rc = uv_read_start(pw__in_stream(in), pw__in_alloc, pw__in_read);
    else if (in->kind == PW_IN_FILE)
        rc = pw__in_fs_next(in);
    if (rc)
        pw__in_end(in, rc);
}

void pw_stdin_close(struct pw_stdin *in)
{
    if (in->closing || !in->loop)
        return;
    in->closing = 1;
    if (in->kind == PW_IN_TTY || in->kind == PW_IN_PIPE) {
        if (in->kind == PW_IN_TTY)
            uv_tty_reset_mode();
        if (!uv_is_closing((uv_handle_t *)&in->h))
            uv_close((uv_handle_t *)&in->h, NULL);
    } else if (in->kind == PW_IN_FILE && in->fs_busy) {
        uv_cancel((uv_req_t *)&in->fs); /* its callback sees closing and returns */
    }
    in->kind = PW_IN_NONE;
    if (!in->in_cb)
        pw_lines_free(&in->lines);
}
