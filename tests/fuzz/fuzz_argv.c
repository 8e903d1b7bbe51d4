/* fuzz_argv.c — `--exec` command lines split into words (proto/argv.h).
 * Invariants: the result is a known code; on success there are 1..64 words,
 * v[n] is NULL, and the words together are no longer than the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/argv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    struct pw_argv a;
    int rc = pw_argv_split(s, &a);
    if (rc == 0) {
        size_t total = 0;
        if (a.n == 0 || a.n > PW_ARGV_MAX_WORDS || a.v[a.n])
            abort();
        for (size_t i = 0; i < a.n; i++)
            total += strlen(a.v[i]);
        if (total > strlen(s))
            abort();
        pw_argv_free(&a);
    } else if (!(rc <= PW_EARGV_QUOTE && rc >= PW_EARGV_LONG) && rc != PW_ENOMEM) {
        abort();
    }
    free(s);
    return 0;
}
