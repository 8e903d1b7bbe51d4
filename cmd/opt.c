#include "opt.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pw_quiet;

struct pw__optpriv {
    struct option *longs;
    char shorts[256];
    size_t n;
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
    if (pv)
        pv->longs = calloc(n + 1, sizeof *pv->longs);
    if (!pv || !pv->longs) {
        fprintf(stderr, "pushwire %s: out of memory\n", a->name);
        exit(PW_EXIT_FAIL);
    }
    /* leading ':' so a missing argument is reported as ':' not '?' */
    size_t k = 0;
    pv->shorts[k++] = ':';
    for (size_t i = 0; i < n; i++) {
        const struct pw_opt *o = &a->opts[i];
        pv->longs[i].name = o->lng;
        pv->longs[i].has_arg = o->arg == PW_REQARG ? required_argument
                               : o->arg == PW_OPTARG ? optional_argument
                                                     : no_argument;
        pv->longs[i].flag = NULL;
        pv->longs[i].val = 256 + (int)i;
        if (o->shrt && k + 3 < sizeof pv->shorts) {
            pv->shorts[k++] = (char)o->shrt;
            if (o->arg == PW_REQARG)
                pv->shorts[k++] = ':';
            else if (o->arg == PW_OPTARG) {
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

int pw_opt_next(struct pw_optstate *st)
{
    struct pw__optpriv *pv = st->priv;
    int idx = -1;
    int c = getopt_long(st->argc, st->argv, pv->shorts, pv->longs, &idx);
    st->arg = optarg;
    if (c == -1) {
        st->ind = optind;
        return PW_OPT_END;
    }
    if (c >= 256 && (size_t)(c - 256) < pv->n)
        return st->applet->opts[c - 256].id;
    if (c == '?' || c == ':') {
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
    }
    for (size_t i = 0; i < pv->n; i++)
        if (st->applet->opts[i].shrt == c)
            return st->applet->opts[i].id;
    return pw__unknown(st, st->argv[optind - 1]);
}

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
        char arg[48] = "", left[96];
        if (o->arg == PW_REQARG)
            snprintf(arg, sizeof arg, " %s", o->argname);
        else if (o->arg == PW_OPTARG)
            snprintf(arg, sizeof arg, "[=%s]", o->argname);
        if (o->shrt)
            snprintf(left, sizeof left, "-%c, --%s%s", o->shrt, o->lng, arg);
        else
            snprintf(left, sizeof left, "    --%s%s", o->lng, arg);
        printf("  %-30s %s\n", left, o->help);
    }
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

int pw_badarg(const struct pw_optstate *st, const char *fmt, ...)
{
    const struct pw_opt *o = NULL;
    /* the option just returned is the last one getopt looked at */
    const char *cur = st->argv[optind - 1];
    /* "--name VALUE": the value was the last word, the option the one before */
    if (st->arg && cur == st->arg && optind >= 2)
        cur = st->argv[optind - 2];
    for (size_t i = 0; st->applet->opts[i].lng; i++) {
        const char *l = st->applet->opts[i].lng;
        size_t ll = strlen(l);
        if ((cur[0] == '-' && cur[1] == '-' && strncmp(cur + 2, l, ll) == 0) ||
            (cur[0] == '-' && cur[1] == st->applet->opts[i].shrt && cur[1])) {
            o = &st->applet->opts[i];
            break;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    if (o)
        fprintf(stderr, "pushwire %s: bad value for --%s: ", st->applet->name, o->lng);
    else
        fprintf(stderr, "pushwire %s: bad value for '%s': ", st->applet->name, cur);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return PW_EXIT_USAGE;
}

int pw_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int pw_parse_double(const char *s, double min, double max, double *out)
{
    if (!s || !*s)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || isnan(v) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
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

int pw_finish_stdout(const char *applet, int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno != EPIPE)
            fprintf(stderr, "pushwire %s: write error on stdout: %s\n", applet,
                    strerror(errno));
        return rc ? rc : PW_EXIT_FAIL;
    }
    return rc;
}
