/* argv.c — a command line split into words (argv.h). */
#include "argv.h"

#include <stdlib.h>
#include <string.h>

static int argv__blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* One word from *sp into *dp (both advanced): 0 or a PW_EARGV_* code. */
static int argv__word(const char **sp, char **dp)
{
    const char *s = *sp;
    char *d = *dp;
    while (*s && !argv__blank(*s)) {
        if (*s == '\'') {
            const char *end = strchr(s + 1, '\'');
            if (!end)
                return PW_EARGV_QUOTE;
            memcpy(d, s + 1, (size_t)(end - s - 1));
            d += end - s - 1;
            s = end + 1;
        } else if (*s == '"') {
            for (s++; *s != '"'; s++) {
                if (!*s)
                    return PW_EARGV_QUOTE;
                if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
                    s++;
                *d++ = *s;
            }
            s++;
        } else if (*s == '\\') {
            if (!s[1])
                return PW_EARGV_ESCAPE;
            *d++ = s[1];
            s += 2;
        } else
            *d++ = *s++;
    }
    *d++ = 0;
    *sp = s;
    *dp = d;
    return 0;
}

int pw_argv_split(const char *s, struct pw_argv *out)
{
    memset(out, 0, sizeof *out);
    size_t len = strlen(s);
    if (len > PW_ARGV_MAX_LEN)
        return PW_EARGV_LONG;
    /* a word is never longer than what it is written with */
    struct pw_argv a = {malloc((PW_ARGV_MAX_WORDS + 1) * sizeof(char *)), 0, malloc(len + 1)};
    if (!a.v || !a.buf) {
        pw_argv_free(&a);
        return PW_ENOMEM;
    }
    char *d = a.buf;
    int rc = 0;
    for (;;) {
        while (argv__blank(*s))
            s++;
        if (!*s)
            break;
        if (a.n == PW_ARGV_MAX_WORDS) {
            rc = PW_EARGV_WORDS;
            break;
        }
        a.v[a.n] = d;
        rc = argv__word(&s, &d);
        if (rc)
            break;
        a.n++;
    }
    if (!rc && a.n == 0)
        rc = PW_EARGV_EMPTY;
    if (rc) {
        pw_argv_free(&a);
        return rc;
    }
    a.v[a.n] = NULL;
    *out = a;
    return 0;
}

void pw_argv_free(struct pw_argv *a)
{
    free(a->v);
    free(a->buf);
    memset(a, 0, sizeof *a);
}
