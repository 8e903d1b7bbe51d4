/* opt.h — options as data: one table per applet drives parsing, value
 * checking, defaults, --help, the man page OPTIONS section and the shell
 * completions (see tools/gendocs.sh), so they cannot drift.
 *
 * An applet declares its options once as an X-macro, one row each:
 *
 *   #define FRAME_OPTS(X)                                                   \
 *       PW_COMMON_OPTS(X)                                                   \
 *       X(DECODE, 'd', "decode", PW_FLAG, "read frames ...")                \
 *       X(MAX, 0, "max", PW_BYTES("16M", "1", "4G"), "largest message")
 *   enum { FRAME_OPTS(PW_OPT_ENUM) };
 *   static const struct pw_opt frame_opts[] = { FRAME_OPTS(PW_OPT_ROW) {0}};
 *
 * Fields: id, short letter (0: none), long name, value (one of the PW_FLAG
 * ... PW_ENUM forms below), one-line help.  Defaults and bounds are written
 * in the value's own grammar (proto/optval.h: "16M", "1ms", "365d"): the
 * docs show them as written and the parser reads them with the same code
 * as the user's value.
 */
#ifndef PW_OPT_H
#define PW_OPT_H

#include <stddef.h>
#include <stdint.h>

#include "proto/optval.h"

enum pw_optarg { PW_NOARG = 0, PW_REQARG = 1, PW_OPTARG = 2 };

/* What an option's value is; each type has one parser and one message. */
enum pw_optty {
    PW_T_FLAG,  /* no value */
    PW_T_STR,   /* any text; the applet checks it and reports with pw_badarg */
    PW_T_COUNT, /* whole number: st.u */
    PW_T_BYTES, /* byte size, 16M: st.u */
    PW_T_SECS,  /* duration in seconds, 1.5 or 500ms: st.d */
    PW_T_REAL,  /* decimal number: st.d */
    PW_T_ENUM,  /* one of the words in compl: st.u is its index */
};

struct pw_optval {
    enum pw_optty type;
    enum pw_optarg arg;
    const char *argname; /* for docs: "BYTES" */
    const char *dflt;    /* NULL, or delivered when the option is not given */
    const char *lo, *hi; /* bounds in the type's grammar; NULL: open */
    const char *compl;   /* completion: NULL, "@file", "@dir", or words (an enum's choices) */
};

#define PW_FLAG {PW_T_FLAG, PW_NOARG, NULL, NULL, NULL, NULL, NULL}
#define PW_STR(argname, dflt, compl) {PW_T_STR, PW_REQARG, argname, dflt, NULL, NULL, compl}
#define PW_FILE {PW_T_STR, PW_REQARG, "FILE", NULL, NULL, NULL, "@file"}
#define PW_COUNT(argname, dflt, lo, hi) {PW_T_COUNT, PW_REQARG, argname, dflt, lo, hi, NULL}
/* a count that may be left out: --reconnect[=MAX]; st.arg is NULL then */
#define PW_COUNT_OPTIONAL(argname, lo, hi) {PW_T_COUNT, PW_OPTARG, argname, NULL, lo, hi, NULL}
#define PW_BYTES(dflt, lo, hi) {PW_T_BYTES, PW_REQARG, "BYTES", dflt, lo, hi, NULL}
#define PW_SECS(dflt, lo, hi) {PW_T_SECS, PW_REQARG, "SECS", dflt, lo, hi, NULL}
#define PW_REAL(argname, dflt, lo, hi) {PW_T_REAL, PW_REQARG, argname, dflt, lo, hi, NULL}
#define PW_ENUM(argname, dflt, words) {PW_T_ENUM, PW_REQARG, argname, dflt, NULL, NULL, words}

struct pw_opt {
    int id;
    int shrt;
    const char *lng;
    struct pw_optval v;
    const char *help;
};

#define PW_OPT_ENUM(id, s, l, v, h) OPT_##id,
#define PW_OPT_ROW(id, s, l, v, h) {OPT_##id, (s), (l), v, (h)},

/* A number in a table ("100") from a macro that stands for it. */
#define PW_XSTR(x) PW_STR__(x)
#define PW_STR__(x) #x

/* Options every applet takes. */
#define PW_COMMON_OPTS(X)                                                      \
    X(HELP, 'h', "help", PW_FLAG, "show this help and exit")                   \
    X(VERBOSE, 'v', "verbose", PW_FLAG, "show the wire on stderr")             \
    X(QUIET, 'q', "quiet", PW_FLAG, "silence diagnostics")

/* TLS verification, shared by the client applets (connect, replay). */
#define PW_TLS_CLIENT_OPTS(X)                                                  \
    X(CACERT, 0, "cacert", PW_FILE, "trust the CA certificates in FILE (PEM)") \
    X(INSECURE, 'k', "insecure", PW_FLAG, "do not verify the server certificate")

struct pw_applet {
    const char *name;
    const char *summary;          /* one line, lower case, no period */
    const char *synopsis;         /* lines of "[OPTIONS] ARGS", '\n'-separated */
    const char *description;      /* a paragraph for --help */
    const struct pw_opt *opts;    /* terminated by a row with lng == NULL */
    int (*main)(int argc, char **argv);
};

/* Exit codes, listed in pushwire(1) EXIT STATUS. */
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
    /* the option just returned: */
    const struct pw_opt *opt;
    const char *arg;  /* its value as given (or the table's default), or NULL */
    int given;        /* 1: from the command line; 0: the table's default */
    uint64_t u;       /* COUNT, BYTES: the value; ENUM: the word's index */
    double d;         /* SECS, REAL: the value */
    void *priv;       /* private: getopt_long table */
};

#define PW_OPT_END (-1)
#define PW_OPT_ERR (-2) /* the message is printed; exit PW_EXIT_USAGE */

/* Starts parsing argv[1..] (argv[0] is the applet name).  Operands may come
 * before, between or after options; "--" ends options. */
void pw_opt_begin(struct pw_optstate *st, const struct pw_applet *a, int argc, char **argv);
/* Next option id, PW_OPT_END or PW_OPT_ERR.  The value is checked against
 * the row's type and bounds before the id is returned (a bad one is
 * reported as pw_badarg does, and PW_OPT_ERR returned).  After the command
 * line, every option with a default that was not given is returned once
 * more with st.given == 0 and the default as its value, so an applet stores
 * a default with the same code as a given value.  OPT_HELP is handled by
 * the caller (see pw_usage). */
int pw_opt_next(struct pw_optstate *st);
void pw_opt_end(struct pw_optstate *st);

/* Prints --help for an applet to stdout. */
void pw_usage(const struct pw_applet *a);
/* Prints "pushwire APPLET: MSG" (+ "\n") to stderr unless quiet. */
void pw_err(const char *applet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
extern int pw_quiet;
/* The one report of a bad option value, for the checks the table cannot
 * make (header syntax, a regex), and the one pw_opt_next makes itself:
 *   pushwire APPLET: bad value for --NAME: 'VALUE' is WHAT; want WANT
 * e.g. pw_badarg(st, "not a header", "'Name: value'"); WANT is a printf
 * format.  Returns PW_EXIT_USAGE. */
int pw_badarg(const struct pw_optstate *st, const char *what, const char *want_fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The text the docs show for an option, written into buf (NUL-terminated,
 * cut to n): its help, then its bounds or choices and default:
 * "largest message accepted (1..4G; default 16M)".  Returns buf. */
const char *pw_opt_doc(const struct pw_opt *o, char *buf, size_t n);
/* What a value must be: "1..4G", "1 or more", "text or json", "" for none. */
const char *pw_opt_want(const struct pw_opt *o, char *buf, size_t n);
/* Checks an applet's table: every default and bound parses, every default
 * is within its bounds.  0, or -1 with the row named in err. */
int pw_opt_check(const struct pw_applet *a, char *err, size_t n);
/* Which value grammars an applet's table uses: bit 1 << PW_T_x. */
unsigned pw_opt_types(const struct pw_applet *a);
/* How BYTES and SECS values are written, for --help and the man pages:
 * plain text, lines of at most 78 columns, ending in "\n". */
extern const char pw_opt_grammar_bytes[], pw_opt_grammar_secs[];

/* Levenshtein-closest of `words` to `s` within a small distance, or NULL. */
const char *pw_closest(const char *s, const char *const *words, size_t n);

/* Checks stdout was written (git's habit); returns rc or PW_EXIT_FAIL.
 * Quiet when the applet already reported the failure (pw_stdout_failed). */
int pw_finish_stdout(const char *applet, int rc);
extern int pw_stdout_failed;

#endif
