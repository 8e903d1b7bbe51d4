/* fuzz_redis_wire.c — the Redis backplane's readers (redis_wire.h): the
 * input as a notification, as a stream id and (up to its first NUL) as a
 * --redis URL.  Invariants: each ends with 0 or its own codes, its output
 * zeroed on failure; a notification's parts lie inside the input and its
 * data is the rest of it; a stream id formats back to the same bytes; a
 * slot is below 16384. */
#include <stdlib.h>
#include <string.h>

#include "proto/redis_wire.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    struct pw_redis_note note;
    int rc = pw_redis_note_parse(p, n, &note);
    check(rc == 0 || rc == PW_EREDIS_NOTE || rc == PW_EREDIS_SID);
    if (rc == 0) {
        check(note.data + note.len == p + n);
        check((const uint8_t *)note.event > p && (const uint8_t *)note.event + note.event_len < note.data);
        check(pw_msgid_epoch_valid(note.epoch, strlen(note.epoch)));
    } else {
        check(note.data == NULL && note.len == 0);
    }
    uint64_t ms, seq;
    if (pw_redis_sid_parse((const char *)p, n, &ms, &seq) == 0) {
        char out[48];
        check(pw_redis_sid_format(out, ms, seq) == n && memcmp(out, p, n) == 0);
    }
    check(pw_redis_key_slot((const char *)p, n) < PW_REDIS_SLOTS);
    char *s = malloc(n + 1);
    if (!s)
        return 0;
    memcpy(s, p, n);
    s[n] = 0;
    struct pw_redis_url u;
    rc = pw_redis_url_parse(s, &u);
    check(rc == 0 || rc == PW_EREDIS_URL || rc == PW_EREDIS_TLS || rc == PW_EREDIS_LONG);
    if (rc == 0)
        check(u.is_unix ? u.path[0] == '/' : (u.host[0] && u.port >= 1 && u.port <= 65535));
    free(s);
    return 0;
}
