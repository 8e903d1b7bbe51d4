/* test_argv.c — `serve --exec 'CMD ARGS'` split into words (src/proto/argv.h). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "proto/argv.h"

/* s splits into the words of want (a NULL-terminated list) */
static void splits(const char *s, const char *const *want)
{
    struct pw_argv a;
    int rc = pw_argv_split(s, &a);
    size_t n = 0;
    while (want[n])
        n++;
    int same = rc == 0 && a.n == n && a.v[n] == NULL;
    for (size_t i = 0; same && i < n; i++)
        same = strcmp(a.v[i], want[i]) == 0;
    OK(same, "'%s' splits into %zu words (rc %d, got %zu)", s, n, rc, rc ? 0 : a.n);
    pw_argv_free(&a);
}

static void fails(const char *s, int code)
{
    struct pw_argv a;
    int rc = pw_argv_split(s, &a);
    OK(rc == code && a.v == NULL, "'%.40s' is refused: %s (got %d)", s, pw_strerror(code), rc);
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})

int main(void)
{
    splits("cat", W("cat"));
    splits("  /bin/echo   a\tb  ", W("/bin/echo", "a", "b"));
    splits("sh -c 'echo $HOME; exit 3'", W("sh", "-c", "echo $HOME; exit 3"));
    splits("printf \"%s\\n\" \"a \\\"b\\\" \\$c \\d\"", W("printf", "%s\\n", "a \"b\" $c \\d"));
    splits("a\\ b c\\'d", W("a b", "c'd"));
    splits("x''y \"\"", W("xy", ""));
    splits("'a'\"b\"c", W("abc"));
    fails("", PW_EARGV_EMPTY);
    fails(" \t ", PW_EARGV_EMPTY);
    fails("sh -c 'echo", PW_EARGV_QUOTE);
    fails("echo \"a", PW_EARGV_QUOTE);
    fails("echo a\\", PW_EARGV_ESCAPE);
    char many[PW_ARGV_MAX_WORDS * 2 + 3];
    for (size_t i = 0; i < PW_ARGV_MAX_WORDS + 1; i++)
        memcpy(many + 2 * i, "a ", 2);
    many[2 * (PW_ARGV_MAX_WORDS + 1)] = 0;
    fails(many, PW_EARGV_WORDS);
    many[2 * PW_ARGV_MAX_WORDS] = 0;
    struct pw_argv a;
    IS(pw_argv_split(many, &a), 0, "%d words are allowed", PW_ARGV_MAX_WORDS);
    pw_argv_free(&a);
    char *big = malloc(PW_ARGV_MAX_LEN + 2);
    memset(big, 'x', PW_ARGV_MAX_LEN + 1);
    big[PW_ARGV_MAX_LEN + 1] = 0;
    fails(big, PW_EARGV_LONG);
    big[PW_ARGV_MAX_LEN] = 0;
    IS(pw_argv_split(big, &a), 0, "%d bytes are allowed", PW_ARGV_MAX_LEN);
    pw_argv_free(&a);
    free(big);
    STREQ(pw_errname(PW_EARGV_QUOTE), "PW_EARGV_QUOTE", "the codes are in the error table");
    return tap_done();
}
