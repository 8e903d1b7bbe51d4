/* fuzz_transcript.c — the streaming transcript reader and the writer.
 * Byte 0 picks the line limit; the rest is the file.  Invariants:
 *  - the reader never reads past its input and ends (records, then 0 or an
 *    error with a line number >= 1 and a reason);
 *  - every record it accepts, written back with pw_trec_write, reads back
 *    to the same record. */
#include <stdlib.h>
#include <string.h>

#include "proto/transcript.h"

static void same_after_rewrite(const struct pw_trec *a)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    if (pw_trec_write(&b, a) != 0)
        abort();
    struct pw_trec c;
    struct pw_json *root = NULL;
    struct pw_buf data;
    pw_buf_init(&data, 0);
    char why[256];
    double last = 0;
    /* the line without its '\n' */
    if (pw_trec_parse((const char *)b.p, b.len - 1, &last, &c, &root, &data, why, sizeof why))
        abort();
    /* t is rounded to microseconds by the writer */
    double dt = c.t - a->t;
    if (dt > 1e-6 * (1 + a->t) || dt < -1e-6 * (1 + a->t))
        abort();
    if (c.out != a->out || c.type != a->type || c.len != a->len ||
        (c.len && memcmp(c.data, a->data, c.len)))
        abort();
    if ((!c.id) != (!a->id) || (c.id && strcmp(c.id, a->id)))
        abort();
    if ((!c.channel) != (!a->channel) || (c.channel && strcmp(c.channel, a->channel)))
        abort();
    pw_json_free(root);
    pw_buf_free(&data);
    pw_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    if (len < 1)
        return 0;
    static const size_t lims[4] = {0, 16, 200, 4096};
    size_t max_line = lims[in[0] & 3];
    FILE *f = fmemopen(len > 1 ? (void *)(in + 1) : (void *)"", len > 1 ? len - 1 : 0, "r");
    if (!f)
        return 0;
    struct pw_treader r;
    pw_treader_init(&r, f, max_line);
    struct pw_trec rec;
    int rc;
    while ((rc = pw_treader_next(&r, &rec)) == 1)
        same_after_rewrite(&rec);
    if (rc < 0 && (r.line < 1 || !r.why[0]))
        abort();
    pw_treader_free(&r);
    fclose(f);
    return 0;
}
