#include "opt.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pw_quiet;

struct pw__optpriv {
    struct option *longs;
    char shorts[256];
    size_t n;
    unsigned char *seen; /* per row: given on the command line */
    size_t next_default; /* after the command line: the next row to look at */
    int line_done;       /* getopt has returned -1 */
};

void pw_opt_begin(struct pw_optstate *st, const struct pw_applet *a, int argc, char **argv)
{
    memset(st, 0, sizeof *st);
    st->applet = a;
    st->argc = argc;
    st->argv = argv;
    struct pw__optpriv *pv = calloc(1, sizeof *pv);
    size_t n = 0;
    while (a->opts[n].lng)
        n++;
    if (pv) {
        pv->longs = calloc(n + 1, sizeof *pv->longs);
        pv->seen = calloc(n + 1, 1);
    }
    if (!pv || !pv->longs || !pv->seen) {
        fprintf(stderr, "pushwire %s: out of memory\n", a->name);
        exit(PW_EXIT_FAIL);
    }
    /* leading ':' so a missing argument is reported as ':' not '?' */
    size_t k = 0;
    pv->shorts[k++] = ':';
    for (size_t i = 0; i < n; i++) {
        const struct pw_opt *o = &a->opts[i];
        pv->longs[i].name = o->lng;
        pv->longs[i].has_arg = o->v.arg == PW_REQARG ? required_argument
                               : o->v.arg == PW_OPTARG ? optional_argument
                                                       : no_argument;
        pv->longs[i].flag = NULL;
        pv->longs[i].val = 256 + (int)i;
        if (o->shrt && k + 3 < sizeof pv->shorts) {
            pv->shorts[k++] = (char)o->shrt;
            if (o->v.arg == PW_REQARG)
                pv->shorts[k++] = ':';
            else if (o->v.arg == PW_OPTARG) {
                pv->shorts[k++] = ':';
                pv->shorts[k++] = ':';
            }
        }
    }
    pv->n = n;
    st->priv = pv;
    optind = 0; /* full reinitialisation of GNU getopt */
    opterr = 0;
}

void pw_opt_end(struct pw_optstate *st)
{
    struct pw__optpriv *pv = st->priv;
    if (pv) {
        free(pv->longs);
        free(pv->seen);
        free(pv);
    }
    st->priv = NULL;
}

static const char *const *pw__optnames(const struct pw_applet *a, size_t *n)
{
    static const char *names[128];
    size_t k = 0;
    for (size_t i = 0; a->opts[i].lng && k < 128; i++)
        names[k++] = a->opts[i].lng;
    *n = k;
    return names;
}

static int pw__unknown(struct pw_optstate *st, const char *bad)
{
    const char *name = bad;
    char tmp[128];
    if (name[0] == '-' && name[1] == '-') {
        name += 2;
        size_t l = strcspn(name, "=");
        if (l >= sizeof tmp)
            l = sizeof tmp - 1;
        memcpy(tmp, name, l);
        tmp[l] = 0;
        name = tmp;
    }
    size_t n;
    const char *const *names = pw__optnames(st->applet, &n);
    const char *near = pw_closest(name, names, n);
    if (near)
        fprintf(stderr, "pushwire %s: unknown option '%s'; did you mean '--%s'?\n",
                st->applet->name, bad, near);
    else
        fprintf(stderr, "pushwire %s: unknown option '%s'; see 'pushwire %s --help'\n",
                st->applet->name, bad, st->applet->name);
    return PW_OPT_ERR;
}

/* "is not a byte size (...)" and the like: what a value of the type is not */
static const char *pw__notwhat(enum pw_optty t)
{
    switch (t) {
    case PW_T_COUNT: return "not a whole number";
    case PW_T_BYTES: return "not a byte size (like 512, 64K, 16M)";
    case PW_T_SECS: return "not a duration (like 1.5, 500ms, 2m)";
    case PW_T_REAL: return "not a number";
    case PW_T_ENUM: return "not one of the choices";
    default: return "not valid";
    }
}

#define PW_BADARG_SHOW 200 /* bytes of a refused value shown */

int pw_badarg(const struct pw_optstate *st, const char *what, const char *want_fmt, ...)
{
    /* a value can be 4 KiB (a --exec command): the start says which */
    const char *v = st->arg ? st->arg : "";
    int n = (int)strnlen(v, PW_BADARG_SHOW + 1);
    fprintf(stderr, "pushwire %s: bad value for --%s: '%.*s%s' is %s", st->applet->name,
            st->opt ? st->opt->lng : "?", n > PW_BADARG_SHOW ? PW_BADARG_SHOW : n, v,
            n > PW_BADARG_SHOW ? "..." : "", what);
    if (want_fmt && *want_fmt) {
        va_list ap;
        va_start(ap, want_fmt);
        fputs("; want ", stderr);
        vfprintf(stderr, want_fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
    return PW_EXIT_USAGE;
}

static enum pw_valtype pw__valtype(enum pw_optty t)
{
    return t == PW_T_BYTES ? PW_VAL_BYTES
           : t == PW_T_SECS ? PW_VAL_SECS
           : t == PW_T_REAL ? PW_VAL_REAL
                            : PW_VAL_COUNT;
}

/* Parses st->arg by the row's type and bounds into st->u / st->d.  0 or a
 * PW_EVAL_* code. */
static int pw__parse(struct pw_optstate *st)
{
    const struct pw_optval *v = &st->opt->v;
    st->u = 0;
    st->d = 0;
    if (!st->arg)
        return 0; /* a flag, or an optional value left out */
    if (v->type == PW_T_ENUM) {
        size_t i = 0;
        int r = pw_val_word(st->arg, v->compl, &i);
        st->u = i;
        return r ? PW_EVAL_WORD : 0;
    }
    if (v->type == PW_T_FLAG || v->type == PW_T_STR)
        return 0;
    struct pw_val val;
    int r = pw_val_range(pw__valtype(v->type), st->arg, v->lo, v->hi, &val);
    if (r == 0) {
        st->u = val.u;
        st->d = val.d;
    }
    return r;
}

/* The row i with value arg: parsed, and its id, or PW_OPT_ERR reported. */
static int pw__take(struct pw_optstate *st, size_t i, const char *arg, int given)
{
    st->opt = &st->applet->opts[i];
    st->arg = arg;
    st->given = given;
    int r = pw__parse(st);
    if (r == 0)
        return st->opt->id;
    char want[256];
    pw_opt_want(st->opt, want, sizeof want);
    const char *what = r == PW_EVAL_LOW    ? "too small"
                       : r == PW_EVAL_HIGH ? "too large"
                       : r == PW_EVAL_LONG ? "too long"
                                           : pw__notwhat(st->opt->v.type);
    if (!given)
        fprintf(stderr, "pushwire %s: internal error: the default of --%s does not parse\n",
                st->applet->name, st->opt->lng);
    else
        pw_badarg(st, what, "%s", want);
    return PW_OPT_ERR;
}

/* After the command line: the next option with a default that was not given. */
static int pw__next_default(struct pw_optstate *st)
{
    struct pw__optpriv *pv = st->priv;
    while (pv->next_default < pv->n) {
        size_t i = pv->next_default++;
        const struct pw_opt *o = &st->applet->opts[i];
        if (o->v.dflt && !pv->seen[i])
            return pw__take(st, i, o->v.dflt, 0);
    }
    st->opt = NULL;
    st->arg = NULL;
    return PW_OPT_END;
}

int pw_opt_next(struct pw_optstate *st)
{
    struct pw__optpriv *pv = st->priv;
    if (pv->line_done)
        return pw__next_default(st);
    int idx = -1;
    int c = getopt_long(st->argc, st->argv, pv->shorts, pv->longs, &idx);
    st->opt = NULL;
    st->arg = optarg;
    if (c == -1) {
        st->ind = optind;
        pv->line_done = 1;
        return pw__next_default(st);
    }
    size_t row = pv->n;
    if (c >= 256 && (size_t)(c - 256) < pv->n)
        row = (size_t)(c - 256);
    else if (c == '?' || c == ':') {
        const char *bad = st->argv[optind - 1];
        if (c == ':') {
            fprintf(stderr, "pushwire %s: option '%s' needs an argument\n",
                    st->applet->name, bad);
            return PW_OPT_ERR;
        }
        if (optopt && !(bad[0] == '-' && bad[1] == '-')) {
            char s[3] = {'-', (char)optopt, 0};
            return pw__unknown(st, s);
        }
        return pw__unknown(st, bad);
    } else {
        for (size_t i = 0; i < pv->n && row == pv->n; i++)
            if (st->applet->opts[i].shrt == c)
                row = i;
    }
    if (row == pv->n)
        return pw__unknown(st, st->argv[optind - 1]);
    pv->seen[row] = 1;
    return pw__take(st, row, optarg, 1);
}

/* ---- what the docs say of a value ---------------------------------------- */

/* snprintf that appends to buf and never overruns it */
static void pw__cat(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pw__cat(char *buf, size_t n, const char *fmt, ...)
{
    size_t l = strnlen(buf, n);
    if (l + 1 >= n)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + l, n - l, fmt, ap);
    va_end(ap);
}

const char *pw_opt_want(const struct pw_opt *o, char *buf, size_t n)
{
    const struct pw_optval *v = &o->v;
    if (n)
        buf[0] = 0;
    if (v->type == PW_T_ENUM && v->compl) {
        /* "a, b or c" */
        size_t nw = 0;
        for (const char *w = v->compl; *w; w += strspn(w, " "))
            nw++, w += strcspn(w, " ");
        size_t i = 0;
        for (const char *w = v->compl; *w; i++) {
            w += strspn(w, " ");
            int l = (int)strcspn(w, " ");
            if (!l)
                break;
            pw__cat(buf, n, "%s%.*s", i == 0 ? "" : i + 1 == nw ? " or " : ", ", l, w);
            w += l;
        }
    } else if (v->type != PW_T_FLAG && v->type != PW_T_STR) {
        if (v->lo && v->hi)
            pw__cat(buf, n, "%s..%s", v->lo, v->hi);
        else if (v->lo)
            pw__cat(buf, n, "%s or more", v->lo);
        else if (v->hi)
            pw__cat(buf, n, "at most %s", v->hi);
    }
    return buf;
}

const char *pw_opt_doc(const struct pw_opt *o, char *buf, size_t n)
{
    char want[256];
    pw_opt_want(o, want, sizeof want);
    if (n)
        buf[0] = 0;
    pw__cat(buf, n, "%s", o->help);
    if (want[0] && o->v.dflt)
        pw__cat(buf, n, " (%s; default %s)", want, o->v.dflt);
    else if (want[0])
        pw__cat(buf, n, " (%s)", want);
    else if (o->v.dflt)
        pw__cat(buf, n, " (default %s)", o->v.dflt);
    return buf;
}

/* One row's default and bounds: 0, or -1 with the reason in err. */
static int pw__check_row(const struct pw_opt *o, char *err, size_t n)
{
    const struct pw_optval *v = &o->v;
    struct pw_val x;
    size_t i;
    int numeric = v->type != PW_T_FLAG && v->type != PW_T_STR && v->type != PW_T_ENUM;
    const char *why = NULL;
    if ((v->type == PW_T_FLAG) != (v->arg == PW_NOARG) || (v->arg != PW_NOARG && !v->argname))
        why = "the value kind and the argument disagree";
    else if (v->type == PW_T_ENUM && (!v->compl || !*v->compl))
        why = "an enum without words";
    else if (numeric && !v->lo)
        why = "a number without a lower bound";
    else if (numeric && v->lo && pw_val_parse(pw__valtype(v->type), v->lo, &x))
        why = "the lower bound does not parse";
    else if (numeric && v->hi && pw_val_parse(pw__valtype(v->type), v->hi, &x))
        why = "the upper bound does not parse";
    else if (numeric && v->dflt &&
             pw_val_range(pw__valtype(v->type), v->dflt, v->lo, v->hi, &x))
        why = "the default does not parse or is out of bounds";
    else if (v->type == PW_T_ENUM && v->dflt && pw_val_word(v->dflt, v->compl, &i))
        why = "the default is not one of the words";
    else if (v->dflt && v->arg != PW_REQARG)
        why = "a default for an option whose value may be left out";
    if (why)
        snprintf(err, n, "--%s: %s", o->lng, why);
    return why ? -1 : 0;
}

int pw_opt_check(const struct pw_applet *a, char *err, size_t n)
{
    for (size_t i = 0; a->opts[i].lng; i++)
        if (pw__check_row(&a->opts[i], err, n))
            return -1;
    return 0;
}

unsigned pw_opt_types(const struct pw_applet *a)
{
    unsigned t = 0;
    for (size_t i = 0; a->opts[i].lng; i++)
        t |= 1u << a->opts[i].v.type;
    return t;
}

const char pw_opt_grammar_bytes[] =
    "BYTES is a whole number of bytes, or one followed by a unit in any case:\n"
    "K, M, G, T (or KiB, MiB, GiB, TiB) are powers of 1024, KB, MB, GB, TB powers\n"
    "of 1000 and B is bytes: 16M is 16777216 bytes, 16MB is 16000000.\n";
const char pw_opt_grammar_secs[] =
    "SECS is a number of seconds, decimals allowed, or one followed by a unit:\n"
    "ms, s, m (minutes), h or d, as in 1.5, 500ms, 2m or 1d.\n";

void pw_usage(const struct pw_applet *a)
{
    const char *s = a->synopsis;
    int first = 1;
    while (*s) {
        size_t l = strcspn(s, "\n");
        printf("%s pushwire %s %.*s\n", first ? "usage:" : "      ", a->name, (int)l, s);
        first = 0;
        s += l;
        if (*s)
            s++;
    }
    printf("\n%s\n\noptions:\n", a->description);
    for (size_t i = 0; a->opts[i].lng; i++) {
        const struct pw_opt *o = &a->opts[i];
        char arg[48] = "", left[96], doc[512];
        if (o->v.arg == PW_REQARG)
            snprintf(arg, sizeof arg, " %s", o->v.argname);
        else if (o->v.arg == PW_OPTARG)
            snprintf(arg, sizeof arg, "[=%s]", o->v.argname);
        if (o->shrt)
            snprintf(left, sizeof left, "-%c, --%s%s", o->shrt, o->lng, arg);
        else
            snprintf(left, sizeof left, "    --%s%s", o->lng, arg);
        printf("  %-30s %s\n", left, pw_opt_doc(o, doc, sizeof doc));
    }
    unsigned t = pw_opt_types(a);
    if (t & (1u << PW_T_BYTES))
        printf("\n%s", pw_opt_grammar_bytes);
    if (t & (1u << PW_T_SECS))
        printf("\n%s", pw_opt_grammar_secs);
    printf("\nSee pushwire-%s(1).\n", a->name);
}

void pw_err(const char *applet, const char *fmt, ...)
{
    if (pw_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "pushwire %s: ", applet);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Edit distance with adjacent transpositions counted as one edit (optimal
 * string alignment), so "hepl" is one typo away from "help". */
static size_t pw__lev(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return 99;
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            size_t v = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

const char *pw_closest(const char *s, const char *const *words, size_t n)
{
    const char *best = NULL;
    size_t bestd = 99;
    for (size_t i = 0; i < n; i++) {
        size_t d = pw__lev(s, words[i]);
        /* a prefix is a strong hint too: "dec" -> "decode" */
        if (strncmp(words[i], s, strlen(s)) == 0 && strlen(s) >= 2)
            d = d < 1 ? d : 1;
        if (d < bestd) {
            bestd = d;
            best = words[i];
        }
    }
    size_t allowed = strlen(s) <= 4 ? 1 : strlen(s) <= 8 ? 2 : 3;
    return bestd <= allowed ? best : NULL;
}

int pw_stdout_failed;

int pw_finish_stdout(const char *applet, int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE && !pw_stdout_failed)
            fprintf(stderr, "pushwire %s: write error on stdout: %s\n", applet,
                    strerror(errno));
        return rc ? rc : PW_EXIT_FAIL;
    }
    return rc;
}
