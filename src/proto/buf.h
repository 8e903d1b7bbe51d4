/* buf.h — a growable byte buffer with a hard cap (curl's "toobig" idea).
 *
 * The buffer owns its memory (free with pw_buf_free).  Appends fail with
 * PW_ETOOBIG before growing past `max`, and PW_ENOMEM when malloc fails; on
 * failure the buffer is unchanged.  `p` may move on every append: never keep
 * pointers into it across appends.
 */
#ifndef PW_BUF_H
#define PW_BUF_H

#include <stddef.h>
#include <stdint.h>

struct pw_buf {
    uint8_t *p;  /* data, NULL while cap == 0 */
    size_t len;  /* bytes used */
    size_t cap;  /* bytes allocated */
    size_t max;  /* hard cap on len; 0 means SIZE_MAX */
};

void pw_buf_init(struct pw_buf *b, size_t max);
void pw_buf_free(struct pw_buf *b);
int pw_buf_reserve(struct pw_buf *b, size_t extra); /* room for `extra` more */
int pw_buf_append(struct pw_buf *b, const void *p, size_t n);
int pw_buf_putc(struct pw_buf *b, uint8_t c);
int pw_buf_printf(struct pw_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void pw_buf_consume(struct pw_buf *b, size_t n); /* drop n bytes from the front */
static inline void pw_buf_reset(struct pw_buf *b) { b->len = 0; }

#endif
