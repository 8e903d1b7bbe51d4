/* argv.h — a command line as a user writes it in one option value
 * (`serve --exec 'CMD ARGS'`) split into words, the way a POSIX shell splits
 * a simple command, without the rest of the shell: no variables, no globs,
 * no redirections, no pipes (for those the user writes `sh -c '...'`).
 *
 *   words are separated by spaces and tabs;
 *   'single quotes' keep everything inside as it is;
 *   "double quotes" keep everything but \" \\ \$ \` (a backslash before
 *   another character stays);
 *   outside quotes a backslash keeps the next character as it is.
 *
 * Pure: no I/O.
 */
#ifndef PW_ARGV_H
#define PW_ARGV_H

#include <stddef.h>

#include "pw_err.h"

#define PW_ARGV_MAX_WORDS 64   /* words in one command */
#define PW_ARGV_MAX_LEN 4096   /* bytes in the command as written */

#define PW_ARGV_ERRORS(X)                                                      \
    X(ARGV_QUOTE, -940, NULL, "a quote is not closed")                         \
    X(ARGV_ESCAPE, -941, NULL, "a backslash ends the command")                 \
    X(ARGV_EMPTY, -942, NULL, "empty or only spaces")                       \
    X(ARGV_WORDS, -943, NULL, "more than 64 words")                            \
    X(ARGV_LONG, -944, NULL, "longer than 4096 bytes")

enum { PW_ARGV_ERRORS(PW_ERR_ENUM) };

/* The words: v[0..n) then NULL, as execvp wants them.  Owned by the struct
 * (one allocation for the strings, one for v): pw_argv_free. */
struct pw_argv {
    char **v;
    size_t n;
    char *buf;
};

/* Splits s (NUL-terminated) into *out.  0, or PW_EARGV_* (then *out holds
 * nothing to free), or PW_ENOMEM. */
int pw_argv_split(const char *s, struct pw_argv *out);
void pw_argv_free(struct pw_argv *a);

#endif
