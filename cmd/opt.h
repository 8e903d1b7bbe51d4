/* opt.h — options as data: one table per applet drives parsing, --help, the
 * man page OPTIONS section and the shell completions (see tools/gendocs.sh),
 * so they cannot drift.
 *
 * An applet declares its options once as an X-macro:
 *
 *   #define FRAME_OPTS(X)                                                   \
 *       PW_COMMON_OPTS(X)                                                   \
 *       X(DECODE, 'd', "decode", PW_NOARG, NULL, "read frames ...", NULL)   \
 *       X(MASK, 0, "mask", PW_REQARG, "KEY", "mask with KEY ...", "random")
 *   enum { FRAME_OPTS(PW_OPT_ENUM) };
 *   static const struct pw_opt frame_opts[] = { FRAME_OPTS(PW_OPT_ROW) {0} };
 *
 * Fields: id, short letter (0: none), long name, argument kind, argument name
 * for docs, one-line help, completion hint (NULL; "@file"; "@dir"; or words
 * separated by spaces).
 */
#ifndef PW_OPT_H
#define PW_OPT_H

#include <stddef.h>
#include <stdint.h>

enum pw_optarg { PW_NOARG = 0, PW_REQARG = 1, PW_OPTARG = 2 };

struct pw_opt {
    int id;
    int shrt;
    const char *lng;
    enum pw_optarg arg;
    const char *argname;
    const char *help;
    const char *compl;
};

#define PW_OPT_ENUM(id, s, l, a, an, h, c) OPT_##id,
#define PW_OPT_ROW(id, s, l, a, an, h, c) {OPT_##id, (s), (l), (a), (an), (h), (c)},

/* Options every applet takes. */
#define PW_COMMON_OPTS(X)                                                      \
    X(HELP, 'h', "help", PW_NOARG, NULL, "show this help and exit", NULL)     \
    X(VERBOSE, 'v', "verbose", PW_NOARG, NULL, "show the wire on stderr", NULL) \
    X(QUIET, 'q', "quiet", PW_NOARG, NULL, "silence diagnostics", NULL)

/* TLS verification, shared by the client applets (connect, replay). */
#define PW_TLS_CLIENT_OPTS(X)                                                  \
    X(CACERT, 0, "cacert", PW_REQARG, "FILE", "trust the CA certificates in FILE (PEM)", "@file") \
    X(INSECURE, 'k', "insecure", PW_NOARG, NULL, "do not verify the server certificate", NULL)

struct pw_applet {
    const char *name;
    const char *summary;          /* one line, lower case, no period */
    const char *synopsis;         /* lines of "[OPTIONS] ARGS", '\n'-separated */
    const char *description;      /* a paragraph for --help */
    const struct pw_opt *opts;    /* terminated by a row with lng == NULL */
    int (*main)(int argc, char **argv);
};

/* Exit codes, the table of pushwire(1). */
enum pw_exit {
    PW_EXIT_OK = 0,
    PW_EXIT_FAIL = 1,
    PW_EXIT_USAGE = 2,
    PW_EXIT_PROTO = 3,
    PW_EXIT_CONNECT = 4,
    PW_EXIT_TLS = 5,
    PW_EXIT_REJECTED = 6,
    PW_EXIT_TIMEOUT = 7,
    PW_EXIT_ABNORMAL = 8,
    PW_EXIT_GAP = 9,
};

struct pw_optstate {
    const struct pw_applet *applet;
    int argc;
    char **argv;
    int ind;          /* after PW_OPT_END: index of the first operand */
    const char *arg;  /* argument of the option just returned, or NULL */
    void *priv;       /* private: getopt_long table */
};

#define PW_OPT_END (-1)
#define PW_OPT_ERR (-2) /* the message is printed; exit PW_EXIT_USAGE */

/* Starts parsing argv[1..] (argv[0] is the applet name).  Operands may come
 * before, between or after options; "--" ends options. */
void pw_opt_begin(struct pw_optstate *st, const struct pw_applet *a, int argc, char **argv);
/* Next option id, PW_OPT_END or PW_OPT_ERR.  OPT_HELP is handled by the
 * caller (see pw_usage). */
int pw_opt_next(struct pw_optstate *st);
void pw_opt_end(struct pw_optstate *st);

/* Prints --help for an applet to stdout. */
void pw_usage(const struct pw_applet *a);
/* Prints "pushwire APPLET: MSG" (+ "\n") to stderr unless quiet. */
void pw_err(const char *applet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int pw_quiet;
/* "pushwire APPLET: bad value for --NAME: MSG" and returns PW_EXIT_USAGE. */
int pw_badarg(const struct pw_optstate *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Number parsing for option values: whole decimal in [min,max].  0 or -1. */
int pw_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int pw_parse_double(const char *s, double min, double max, double *out);

/* Levenshtein-closest of `words` to `s` within a small distance, or NULL. */
const char *pw_closest(const char *s, const char *const *words, size_t n);

/* Checks stdout was written (git's habit); returns rc or PW_EXIT_FAIL. */
int pw_finish_stdout(const char *applet, int rc);

#endif
