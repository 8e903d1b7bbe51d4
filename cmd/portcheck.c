/* portcheck.c — `pushwire portcheck`: how many connections this host can
 * hold and what stops it first (src/limits.h), and a live probe that opens
 * N real connections to HOST:PORT (src/probe.h). */
#include <errno.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "host/hostlimits.h"
#include "opt.h"
#include "host/probe.h"
#include "proto/pw_err.h"
#include "proto/ws_frame.h"

#define PORTCHECK_OPTS(X)                                                      \
    PW_COMMON_OPTS(X)                                                          \
    X(JSON, 0, "json", PW_FLAG, "print one JSON object instead of the table")  \
    X(TARGET, 't', "target", PW_COUNT("N", NULL, "1", "1000000000"), "exit 0 if N connections fit under every limit, 1 if not") \
    X(SERVER, 0, "server", PW_FLAG, "count incoming connections: ephemeral ports do not apply") \
    X(CONNECTIONS, 'n', "connections", PW_COUNT("N", NULL, "1", "10000000"), "probe: open N connections to HOST:PORT") \
    X(SOURCE, 's', "source", PW_STR("LIST", NULL, NULL), "source addresses, A,B,… or A-B, bound before connect") \
    X(WS, 0, "ws", PW_STR("PATH", NULL, NULL), "probe: perform a WebSocket upgrade to PATH on each") \
    X(HOLD, 0, "hold", PW_SECS("0", "0", "7d"), "probe: hold the connections SECS seconds") \
    X(RATE, 'r', "rate", PW_REAL("R", NULL, "0.001", "1e6"), "probe: start at most R connections a second; unlimited without") \
    X(PARALLEL, 'p', "parallel", PW_COUNT("N", "256", "1", "100000"), "probe: at most N attempts in flight") \
    X(TIMEOUT, 0, "timeout", PW_SECS("10", "1ms", "7d"), "probe: give up on an attempt after SECS")

enum { PORTCHECK_OPTS(PW_OPT_ENUM) };
static const struct pw_opt portcheck_opts[] = {PORTCHECK_OPTS(PW_OPT_ROW){0}};

static int portcheck_main(int argc, char **argv);

const struct pw_applet pw_applet_portcheck = {
    .name = "portcheck",
    .summary = "how many connections this host can hold and what stops it first",
    .synopsis = "[--json] [--target N] [--server] [--source LIST]\n"
                "HOST:PORT --connections N [--source LIST] [--ws PATH] [--hold SECS] "
                "[--rate R] [--parallel N] [--timeout SECS] [--json]",
    .description =
        "Without HOST:PORT, reads the limits that bound the number of TCP connections\n"
        "(open files, fs.file-max, fs.nr_open, ephemeral ports, somaxconn,\n"
        "tcp_max_syn_backlog, tcp_tw_reuse, conntrack, memory), prints the capacity\n"
        "each allows, which binds first and the commands to go past it.\n"
        "With HOST:PORT, opens N real connections (WebSocket upgrades with --ws),\n"
        "holds them and reports successes, rate, latency and the first error.",
    .opts = portcheck_opts,
    .main = portcheck_main,
};

#define A "portcheck"

struct pc_opts {
    int json, server, tty;
    long long target;          /* -1: none */
    size_t connections;        /* 0: report mode */
    const char *source;
    struct sockaddr_storage *src;
    size_t nsrc;
    const char *ws;
    double hold, rate, timeout;
    size_t parallel;
};

/* --- small output helpers --- */

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void json_num(long long v)
{
    if (v < 0)
        fputs("null", stdout);
    else
        printf("%lld", v);
}

static const char *errno_name(int e)
{
    const char *n = e ? strerrorname_np(e) : NULL;
    return n ? n : "E?";
}

static void fmt_bytes(char *out, size_t sz, long long b)
{
    if (b < 0)
        snprintf(out, sz, "unknown");
    else if (b >= 1LL << 30)
        snprintf(out, sz, "%.1f GiB", (double)b / (1 << 30));
    else if (b >= 1LL << 20)
        snprintf(out, sz, "%.1f MiB", (double)b / (1 << 20));
    else
        snprintf(out, sz, "%.1f KiB", (double)b / 1024);
}

static void fmt_num(char *out, size_t sz, long long v)
{
    if (v == PW_LIM_UNLIMITED)
        snprintf(out, sz, "unlimited");
    else if (v < 0)
        snprintf(out, sz, "unknown");
    else
        snprintf(out, sz, "%lld", v);
}

/* One labelled line: aligned on a terminal, "label: value" when piped. */
static void row(const struct pc_opts *o, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void row(const struct pc_opts *o, const char *label, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (o->tty)
        printf("  %-24s ", label);
    else
        printf("%s: ", label);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

/* --- report mode --- */

/* Descriptors needed for `conns` connections: round up generously. */
static long long nofile_for(const struct pw_limits *l, long long conns)
{
    long long need = conns + (l->fds_open > 0 ? l->fds_open : 3) + 16;
    return (need + 1023) / 1024 * 1024;
}

/* Commands that take limit `id` to at least `goal` connections, one per line
 * in cmds (each at most 255 bytes).  Returns how many. */
static size_t commands_for(const struct pw_limits *l, const struct pc_opts *o, int id,
                           long long goal, char cmds[][256], size_t max)
{
    size_t n = 0;
#define CMD(...) do { if (n < max) snprintf(cmds[n++], 256, __VA_ARGS__); } while (0)
    switch (id) {
    case PW_LIM_OPEN_FILES:
    case PW_LIM_NR_OPEN: {
        long long want = nofile_for(l, goal);
        if (want > l->nr_open && l->nr_open >= 0)
            CMD("sysctl -w fs.nr_open=%lld", want);
        if (id == PW_LIM_NR_OPEN)
            break;
        if (l->nofile_soft != PW_LIM_UNLIMITED && l->nofile_soft < l->nofile_hard)
            CMD("ulimit -n %lld", l->nofile_hard != PW_LIM_UNLIMITED && want > l->nofile_hard
                                     ? l->nofile_hard : want);
        if (l->nofile_hard != PW_LIM_UNLIMITED && want > l->nofile_hard) {
            CMD("ulimit -Hn %lld && ulimit -n %lld   # as root (CAP_SYS_RESOURCE)%s", want, want,
                l->cap_sys_resource ? "" : "; this process may not");
            CMD("echo '* soft nofile %lld' >> /etc/security/limits.conf; "
                "echo '* hard nofile %lld' >> /etc/security/limits.conf   # next login", want,
                want);
            CMD("LimitNOFILE=%lld   # in the [Service] section of a systemd unit", want);
            CMD("# or spread connections over several server processes");
        }
        break;
    }
    case PW_LIM_FILE_MAX:
        CMD("sysctl -w fs.file-max=%lld",
            ((l->files_in_use > 0 ? l->files_in_use : 0) + goal + 65536) / 1024 * 1024);
        break;
    case PW_LIM_PORTS: {
        long long per = pw_limits_ports(l);
        if (goal <= 64511 && per < 64511)
            CMD("sysctl -w net.ipv4.ip_local_port_range='1024 65535'");
        long long big = per > 64511 ? per : 64511;
        long long k = (goal + big - 1) / big;
        if (k < 2)
            k = 2;
        if (k > 250)
            k = 250;
        CMD("pushwire portcheck HOST:PORT --source 127.0.0.2-127.0.0.%lld ...   "
            "# %lld source addresses on loopback",
            k + 1, k);
        CMD("ip addr add ADDRESS/32 dev IFACE   # per extra source address elsewhere, "
            "then --source A,B,...");
        break;
    }
    case PW_LIM_CONNTRACK:
        CMD("sysctl -w net.netfilter.nf_conntrack_max=%lld",
            ((l->conntrack_count > 0 ? l->conntrack_count : 0) + goal + 65536) / 1024 * 1024);
        break;
    case PW_LIM_TCP_MEM: {
        struct pw_conn_cost c;
        pw_limits_conn_cost(l, &c);
        long long pages = (goal * c.buffers + l->page_size - 1) / l->page_size * 5 / 4;
        CMD("sysctl -w net.ipv4.tcp_mem='%lld %lld %lld'", pages / 2, pages * 3 / 4, pages);
        break;
    }
    case PW_LIM_MEMORY:
        CMD("# add memory, or smaller minimum socket buffers: "
            "sysctl -w net.ipv4.tcp_rmem='4096 131072 6291456'");
        break;
    }
    if (n && id != PW_LIM_OPEN_FILES && id != PW_LIM_MEMORY && id != PW_LIM_PORTS)
        CMD("# to keep it across reboots, put the setting in /etc/sysctl.d/90-pushwire.conf");
#undef CMD
    (void)o;
    return n;
}

static const char *raise_text(const struct pw_limits *l)
{
    if (l->cap_sys_resource)
        return "may raise soft and hard (CAP_SYS_RESOURCE), up to fs.nr_open";
    if (l->nofile_soft != l->nofile_hard)
        return "may raise soft up to hard; not past hard (no CAP_SYS_RESOURCE)";
    return "soft is at hard; not past hard (no CAP_SYS_RESOURCE)";
}

static const char *raise_key(const struct pw_limits *l)
{
    return l->cap_sys_resource ? "nr_open" : l->nofile_soft != l->nofile_hard ? "hard" : "none";
}

static void report_json(const struct pw_limits *l, const struct pc_opts *o,
                        const struct pw_capacity *cap, int bind, long long next,
                        const int *blocked, size_t nblocked, char cmds[][256], size_t ncmds)
{
    struct pw_conn_cost c;
    pw_limits_conn_cost(l, &c);
    printf("{\"nofile_soft\":");
    json_num(l->nofile_soft == PW_LIM_UNLIMITED ? -1 : l->nofile_soft);
    printf(",\"nofile_hard\":");
    json_num(l->nofile_hard == PW_LIM_UNLIMITED ? -1 : l->nofile_hard);
    printf(",\"nofile_raise\":\"%s\",\"cap_sys_resource\":%s,\"fds_open\":", raise_key(l),
           l->cap_sys_resource ? "true" : "false");
    json_num(l->fds_open);
    printf(",\"file_max\":");
    json_num(l->file_max);
    printf(",\"nr_open\":");
    json_num(l->nr_open);
    printf(",\"files_in_use\":");
    json_num(l->files_in_use);
    printf(",\"port_range\":");
    if (l->port_lo >= 0)
        printf("[%lld,%lld]", l->port_lo, l->port_hi);
    else
        printf("null");
    printf(",\"port_range_size\":%lld,\"sources\":%zu,\"somaxconn\":", pw_limits_ports(l),
           o->nsrc ? o->nsrc : 1);
    json_num(l->somaxconn);
    printf(",\"tcp_max_syn_backlog\":");
    json_num(l->syn_backlog);
    printf(",\"tcp_tw_reuse\":");
    json_num(l->tw_reuse);
    printf(",\"conntrack_max\":");
    json_num(l->conntrack_max);
    printf(",\"conntrack_count\":");
    json_num(l->conntrack_count);
    printf(",\"mem_available\":");
    json_num(l->mem_available);
    printf(",\"per_conn_bytes\":%lld,\"per_conn\":{\"kernel\":%lld,\"buffers\":%lld,"
           "\"pushwire\":%lld}",
           c.total, c.kernel, c.buffers, c.pushwire);
    printf(",\"server\":%s,\"capacity\":{", o->server ? "true" : "false");
    for (int i = 0; i < PW_LIM_COUNT; i++) {
        printf("%s\"%s\":", i ? "," : "", cap[i].key);
        json_num(cap[i].cap);
    }
    printf("},\"binds_first\":");
    if (bind >= 0)
        json_str(cap[bind].key);
    else
        printf("null");
    printf(",\"max_connections\":");
    json_num(bind >= 0 ? cap[bind].cap : -1);
    printf(",\"next_limit\":");
    json_num(next);
    printf(",\"target\":");
    json_num(o->target);
    printf(",\"target_ok\":%s,\"blocked_by\":[",
           o->target < 0 ? "null" : nblocked ? "false" : "true");
    for (size_t i = 0; i < nblocked; i++) {
        printf("%s", i ? "," : "");
        json_str(cap[blocked[i]].key);
    }
    printf("],\"commands\":[");
    for (size_t i = 0; i < ncmds; i++) {
        printf("%s", i ? "," : "");
        json_str(cmds[i]);
    }
    printf("]}\n");
}

/* The limits whose capacity is below target, smallest first, into blocked. */
static size_t blocked_by(const struct pw_capacity *cap, long long target,
                         int blocked[PW_LIM_COUNT])
{
    size_t nblocked = 0;
    for (int pass = 0; pass < PW_LIM_COUNT; pass++) {
        int best = -1;
        for (int i = 0; i < PW_LIM_COUNT; i++) {
            int seen = 0;
            for (size_t k = 0; k < nblocked; k++)
                seen |= blocked[k] == i;
            if (!seen && cap[i].cap >= 0 && cap[i].cap < target &&
                (best < 0 || cap[i].cap < cap[best].cap))
                best = i;
        }
        if (best < 0)
            break;
        blocked[nblocked++] = best;
    }
    return nblocked;
}

/* The host's limits as rows of text. */
static void print_limits(const struct pc_opts *o, const struct pw_limits *lp)
{
    const struct pw_limits l = *lp;
    char a[64], b[64], m[64];
    struct pw_conn_cost c;
    pw_limits_conn_cost(&l, &c);
    if (o->tty)
        printf("limits\n");
    fmt_num(a, sizeof a, l.nofile_soft);
    fmt_num(b, sizeof b, l.nofile_hard);
    row(o, "open files", "soft %s, hard %s, %lld open now; %s", a, b, l.fds_open, raise_text(&l));
    fmt_num(a, sizeof a, l.file_max);
    fmt_num(b, sizeof b, l.files_in_use);
    row(o, "fs.file-max", "%s (%s in use)", a, b);
    fmt_num(a, sizeof a, l.nr_open);
    row(o, "fs.nr_open", "%s", a);
    if (l.port_lo >= 0)
        row(o, "ephemeral ports", "%lld-%lld: %lld ports per source address and destination",
            l.port_lo, l.port_hi, pw_limits_ports(&l));
    else
        row(o, "ephemeral ports", "unknown");
    fmt_num(a, sizeof a, l.somaxconn);
    row(o, "net.core.somaxconn", "%s (pending accepts per listening socket)", a);
    fmt_num(a, sizeof a, l.syn_backlog);
    row(o, "tcp_max_syn_backlog", "%s (half-open connections per listener)", a);
    fmt_num(a, sizeof a, l.tw_reuse);
    row(o, "tcp_tw_reuse", "%s (%s)", a,
        l.tw_reuse == 1   ? "outgoing may reuse TIME_WAIT ports"
        : l.tw_reuse == 2 ? "reuse of TIME_WAIT ports on loopback only"
        : l.tw_reuse == 0 ? "TIME_WAIT ports wait 60 s before reuse"
                          : "unknown");
    if (l.conntrack_max >= 0) {
        fmt_num(b, sizeof b, l.conntrack_count);
        row(o, "nf_conntrack_max", "%lld (%s in use)", l.conntrack_max, b);
    } else {
        row(o, "nf_conntrack_max", "not present (nf_conntrack not loaded)");
    }
    fmt_bytes(a, sizeof a, l.mem_available);
    fmt_bytes(m, sizeof m, c.total);
    row(o, "memory", "%s available; about %s per connection (%lld kernel socket + %lld "
                     "minimum buffers + %lld pushwire)",
        a, m, c.kernel, c.buffers, c.pushwire);
}

static int report(const struct pc_opts *o)
{
    struct pw_limits l;
    if (pw_limits_read(&l, "/proc") != 0) {
        pw_err(A, "cannot read RLIMIT_NOFILE: %s", strerror(errno));
        return PW_EXIT_FAIL;
    }
    struct pw_capacity cap[PW_LIM_COUNT];
    struct pw_capacity_opts co = {.sources = o->nsrc ? (long long)o->nsrc : 1,
                                  .server = o->server};
    int bind = pw_limits_capacity(&l, &co, cap);

    /* the next limit after the binding one: how far raising it gets */
    long long next = -1;
    for (int i = 0; i < PW_LIM_COUNT; i++)
        if (i != bind && cap[i].cap >= 0 && (next < 0 || cap[i].cap < next) &&
            !(bind == PW_LIM_OPEN_FILES && i == PW_LIM_NR_OPEN))
            next = cap[i].cap;

    int blocked[PW_LIM_COUNT];
    size_t nblocked = o->target >= 0 ? blocked_by(cap, o->target, blocked) : 0;

    char cmds[32][256];
    size_t ncmds = 0;
    if (o->target >= 0)
        for (size_t k = 0; k < nblocked; k++)
            ncmds += commands_for(&l, o, blocked[k], o->target, cmds + ncmds, 32 - ncmds);
    else if (bind >= 0)
        ncmds = commands_for(&l, o, bind,
                             next > cap[bind].cap ? next : cap[bind].cap * 2 + 1024, cmds, 32);

    if (o->json) {
        report_json(&l, o, cap, bind, next, blocked, nblocked, cmds, ncmds);
        return o->target >= 0 && nblocked ? PW_EXIT_FAIL : PW_EXIT_OK;
    }

    print_limits(o, &l);

    if (o->tty)
        printf("\ncapacity (connections one process can hold%s)\n",
               o->server ? ", incoming" : ", to one destination");
    for (int i = 0; i < PW_LIM_COUNT; i++) {
        if (cap[i].cap < 0 && !(i == PW_LIM_PORTS && o->server))
            continue;
        if (i == PW_LIM_PORTS && o->server) {
            if (o->tty)
                printf("  %-40s %12s\n", cap[i].name, "n/a");
            else
                printf("capacity %s: n/a (incoming)\n", cap[i].key);
            continue;
        }
        if (o->tty)
            printf("  %-40s %12lld%s\n", cap[i].name, cap[i].cap,
                   i == bind ? "  <- binds first" : "");
        else
            printf("capacity %s: %lld\n", cap[i].key, cap[i].cap);
    }
    if (bind >= 0) {
        if (o->tty)
            printf("\n");
        printf("binds first: %s: %lld connections\n", cap[bind].name, cap[bind].cap);
    }
    if (o->target >= 0) {
        if (!nblocked)
            printf("target %lld: reachable\n", o->target);
        for (size_t k = 0; k < nblocked; k++)
            printf("target %lld: blocked by %s (%s): %lld connections\n", o->target,
                   cap[blocked[k]].name, cap[blocked[k]].key, cap[blocked[k]].cap);
    }
    if (ncmds) {
        printf("%s\n", o->target >= 0 ? "to reach the target:" : "to go past it:");
        for (size_t i = 0; i < ncmds; i++)
            printf("  %s\n", cmds[i]);
    }
    if (o->target >= 0 && nblocked) {
        pw_err(A, "target %lld is not reachable: %s allows %lld", o->target,
               cap[blocked[0]].name, cap[blocked[0]].cap);
        return PW_EXIT_FAIL;
    }
    return PW_EXIT_OK;
}

/* --- probe mode --- */

static volatile sig_atomic_t pc_stop;
static void on_signal(int sig)
{
    (void)sig;
    pc_stop = 1;
}

static void progress(const struct pw_probe_stats *st, void *ud)
{
    const struct pc_opts *o = ud;
    double rate = st->elapsed > 0 ? (double)st->connected / st->elapsed : 0;
    fprintf(stderr, "\r%s %zu/%zu  ok %zu  failed %zu  open %zu  %.0f/s  %.1f s\033[K",
            st->phase == PW_PROBE_OPENING ? "opening" : st->phase == PW_PROBE_HOLDING ? "holding"
                                                                                      : "done",
            st->attempted, o->connections, o->ws ? st->upgraded : st->connected, st->failed,
            st->open, rate, st->elapsed);
    if (st->phase == PW_PROBE_DONE)
        fputc('\n', stderr);
}

static void addr_str(const struct sockaddr_storage *ss, char *out, size_t sz)
{
    const void *p = ss->ss_family == AF_INET
                        ? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
                        : (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
    if (!inet_ntop(ss->ss_family, p, out, (socklen_t)sz))
        snprintf(out, sz, "?");
}

static const char *stage_name(enum pw_probe_stage s)
{
    switch (s) {
    case PW_PROBE_ST_SOCKET: return "socket";
    case PW_PROBE_ST_BIND: return "bind";
    case PW_PROBE_ST_CONNECT: return "connect";
    case PW_PROBE_ST_UPGRADE: return "upgrade";
    case PW_PROBE_ST_HOLD: return "hold";
    default: return "none";
    }
}

/* The first error: its name, meaning and the limit it points at. */
struct pc_err {
    char name[48];
    char meaning[512];
    const char *limit;
};

static void explain(const struct pw_probe_stats *st, const struct pc_opts *o,
                    const struct rlimit *rl, const struct pw_limits *l, struct pc_err *e)
{
    const struct pw_probe_err *f = &st->first;
    e->limit = "";
    if (f->stage == PW_PROBE_ST_HOLD && f->close_code) {
        snprintf(e->name, sizeof e->name, "close %d", f->close_code);
        snprintf(e->meaning, sizeof e->meaning,
                 "the server closed a held WebSocket with code %d (%s)", f->close_code,
                 pw_ws_close_code_name((unsigned)f->close_code));
        e->limit = "server";
    } else if (f->stage == PW_PROBE_ST_HOLD && f->sys == EPROTO) {
        snprintf(e->name, sizeof e->name, "EPROTO");
        snprintf(e->meaning, sizeof e->meaning,
                 "the server sent a frame that breaks RFC 6455 to a held WebSocket");
        e->limit = "server";
    } else if (f->sys) {
        snprintf(e->name, sizeof e->name, "%s", errno_name(f->sys));
        const char *m = pw_probe_explain(f->sys, &e->limit);
        if (f->stage == PW_PROBE_ST_HOLD && f->sys == ECONNRESET)
            m = "the server closed a held connection";
        char extra[160] = "";
        if (strcmp(e->limit, "open_files") == 0)
            snprintf(extra, sizeof extra, ": soft %llu, hard %llu",
                     (unsigned long long)rl->rlim_cur, (unsigned long long)rl->rlim_max);
        else if (strcmp(e->limit, "ports") == 0 && l->port_lo >= 0) {
            char src[64] = "the default address";
            if (f->src >= 0)
                addr_str(&o->src[f->src], src, sizeof src);
            snprintf(extra, sizeof extra, ": %lld ports for %s", pw_limits_ports(l), src);
        } else if (strcmp(e->limit, "file_max") == 0)
            snprintf(extra, sizeof extra, ": %lld", l->file_max);
        else if (f->sys == ETIMEDOUT && f->stage != PW_PROBE_ST_HOLD)
            snprintf(extra, sizeof extra, " (--timeout %g s; somaxconn %lld, "
                                          "tcp_max_syn_backlog %lld)",
                     o->timeout, l->somaxconn, l->syn_backlog);
        snprintf(e->meaning, sizeof e->meaning, "%s%s", m, extra);
    } else if (f->status) {
        snprintf(e->name, sizeof e->name, "HTTP %d", f->status);
        snprintf(e->meaning, sizeof e->meaning,
                 "the server refused the WebSocket upgrade with status %d", f->status);
        e->limit = "server";
    } else if (f->pw) {
        snprintf(e->name, sizeof e->name, "%s", pw_errname(f->pw));
        const char *rule = pw_errrule(f->pw);
        snprintf(e->meaning, sizeof e->meaning, "bad upgrade response: %s%s%s%s",
                 pw_strerror(f->pw), *rule ? " (" : "", rule, *rule ? ")" : "");
        e->limit = "server";
    } else {
        e->name[0] = 0;
        e->meaning[0] = 0;
    }
}

static int probe_exit(const struct pw_probe_stats *st, const struct pc_opts *o)
{
    size_t ok = o->ws ? st->upgraded : st->connected;
    if (st->stopped == 2)
        return PW_EXIT_FAIL;
    if (ok == o->connections && st->held == o->connections && !st->dropped)
        return PW_EXIT_OK;
    if (ok > 0)
        return PW_EXIT_FAIL;
    const struct pw_probe_err *f = &st->first;
    if (f->status)
        return PW_EXIT_REJECTED;
    if (f->pw)
        return PW_EXIT_PROTO;
    switch (f->sys) {
    case ECONNREFUSED: case ENETUNREACH: case EHOSTUNREACH: return PW_EXIT_CONNECT;
    case ETIMEDOUT: return PW_EXIT_TIMEOUT;
    default: return PW_EXIT_FAIL;
    }
}

static void lat(const char *label, uint32_t *v, size_t n, const struct pc_opts *o)
{
    uint32_t mx = n ? v[0] : 0;
    for (size_t i = 0; i < n; i++)
        mx = v[i] > mx ? v[i] : mx;
    double p50 = pw_probe_percentile(v, n, 50) / 1e3, p99 = pw_probe_percentile(v, n, 99) / 1e3;
    char l[32];
    snprintf(l, sizeof l, "%s latency", label);
    if (o->json && !n)
        printf(",\"%s_ms\":null", label);
    else if (o->json)
        printf(",\"%s_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}", label, p50, p99, mx / 1e3);
    else if (!n)
        row(o, l, "none (no %s completed)", label);
    else
        row(o, l, "p50 %.3f ms, p99 %.3f ms, max %.3f ms", p50, p99, mx / 1e3);
}

/* Raises our own soft open-files limit to the hard one, reads the host's
 * limits into rl and l, and warns when the probe will run into them. */
static void probe_limits(const struct pc_opts *o, struct rlimit *rlp, struct pw_limits *lp)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit nr = rl;
        if (nr.rlim_max == RLIM_INFINITY) {
            struct pw_limits l0;
            pw_limits_read(&l0, "/proc");
            nr.rlim_cur = l0.nr_open > 0 ? (rlim_t)l0.nr_open : rl.rlim_cur;
        } else
            nr.rlim_cur = nr.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &nr) == 0) {
            pw_err(A, "raised the open-files soft limit from %llu to %llu (the hard limit)",
                   (unsigned long long)rl.rlim_cur, (unsigned long long)nr.rlim_cur);
            rl = nr;
        } else
            pw_err(A, "cannot raise the open-files soft limit from %llu: %s",
                   (unsigned long long)rl.rlim_cur, strerror(errno));
    }
    struct pw_limits l;
    pw_limits_read(&l, "/proc");
    *rlp = rl;
    *lp = l;
    if (rl.rlim_cur != RLIM_INFINITY && o->connections + 8 > rl.rlim_cur)
        pw_err(A, "%zu connections need about %zu descriptors and the open-files limit is "
                  "%llu: expect EMFILE (raise the hard limit: ulimit -Hn, as root)",
               o->connections, o->connections + 8, (unsigned long long)rl.rlim_cur);
    long long ports = pw_limits_ports(&l) * (long long)(o->nsrc ? o->nsrc : 1);
    if (ports > 0 && (long long)o->connections > ports)
        pw_err(A, "%zu connections to one destination need more than the %lld ephemeral ports "
                  "of %zu source address%s: expect EADDRNOTAVAIL (add --source)",
               o->connections, ports, o->nsrc ? o->nsrc : 1, o->nsrc > 1 ? "es" : "");

}

/* The probe's result as one JSON object on stdout. */
static void print_json(const struct pc_opts *o, const struct pw_probe_stats *st,
                       const struct pc_err *e, const struct rlimit *rl, const char *hosthdr,
                       double rate, int rc)
{
    printf("{\"destination\":");
    json_str(hosthdr);
    printf(",\"connections\":%zu,\"ws\":", o->connections);
    if (o->ws)
        json_str(o->ws);
    else
        printf("null");
    printf(",\"sources\":%zu,\"nofile_soft\":%llu,\"nofile_hard\":%llu,\"attempted\":%zu,"
           "\"connected\":%zu,\"upgraded\":",
           o->nsrc ? o->nsrc : 1, (unsigned long long)rl->rlim_cur,
           (unsigned long long)rl->rlim_max, st->attempted, st->connected);
    json_num(o->ws ? (long long)st->upgraded : -1);
    printf(",\"held\":%zu,\"failed\":%zu,\"dropped\":%zu,\"hold\":%g,\"open_secs\":%.3f,"
           "\"rate\":%.1f",
           st->held, st->failed, st->dropped, o->hold, st->open_secs, rate);
    lat("connect", st->connect_us, st->nconnect, o);
    if (o->ws)
        lat("upgrade", st->upgrade_us, st->nupgrade, o);
    else
        printf(",\"upgrade_ms\":null"); /* always present, as upgraded is */
    printf(",\"errors\":{\"emfile\":%zu,\"enfile\":%zu,\"eaddrnotavail\":%zu,"
           "\"econnrefused\":%zu,\"timeout\":%zu,\"reset\":%zu,\"upgrade\":%zu,"
           "\"nomem\":%zu,\"other\":%zu}",
           st->err_emfile, st->err_enfile, st->err_addrnotavail, st->err_refused,
           st->err_timeout, st->err_reset, st->err_upgrade, st->err_nomem, st->err_other);
    printf(",\"first_error\":");
    if (st->first.stage == PW_PROBE_ST_NONE)
        printf("null");
    else {
        printf("{\"error\":");
        json_str(e->name);
        printf(",\"stage\":\"%s\",\"index\":%zu,\"at\":%.3f,\"source\":",
               stage_name(st->first.stage), st->first.index, st->first.at);
        if (st->first.src >= 0) {
            char s[64];
            addr_str(&o->src[st->first.src], s, sizeof s);
            json_str(s);
        } else
            printf("null");
        printf(",\"meaning\":");
        json_str(e->meaning);
        printf(",\"limit\":");
        json_str(e->limit);
        printf("}");
    }
    printf(",\"interrupted\":%s,\"exit\":%d}\n", st->stopped == 2 ? "true" : "false", rc);
}

/* The probe's result as rows of text on stdout. */
static void print_text(const struct pc_opts *o, const struct pw_probe_stats *st,
                       const struct pc_err *e, const char *hosthdr, double rate)
{
    if (o->tty)
        printf("probe %s%s%s: %zu connections from %zu source address%s\n", hosthdr,
               o->ws ? ", WebSocket " : "", o->ws ? o->ws : "", o->connections,
               o->nsrc ? o->nsrc : 1, o->nsrc > 1 ? "es" : "");
    row(o, "attempted", "%zu of %zu", st->attempted, o->connections);
    row(o, "connected", "%zu", st->connected);
    if (o->ws)
        row(o, "upgraded", "%zu", st->upgraded);
    row(o, "held at once", "%zu", st->held);
    row(o, "failed", "%zu", st->failed);
    if (st->failed) { /* every cause, not only the first error's */
        const struct { const char *k; size_t n; } c[] = {
            {"emfile", st->err_emfile},   {"enfile", st->err_enfile},
            {"eaddrnotavail", st->err_addrnotavail}, {"econnrefused", st->err_refused},
            {"timeout", st->err_timeout}, {"reset", st->err_reset},
            {"upgrade", st->err_upgrade}, {"nomem", st->err_nomem},
            {"other", st->err_other},
        };
        char line[256];
        size_t l = 0;
        line[0] = 0;
        for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
            if (!c[i].n || l >= sizeof line)
                continue;
            int w = snprintf(line + l, sizeof line - l, "%s%s %zu", l ? ", " : "", c[i].k, c[i].n);
            if (w > 0)
                l += (size_t)w;
        }
        row(o, "failed by cause", "%s", line);
    }
    if (o->hold > 0 || st->dropped)
        row(o, "dropped while held", "%zu (held %g s)", st->dropped, o->hold);
    row(o, "time to open", "%.3f s, %.0f connections/s", st->open_secs, rate);
    lat("connect", st->connect_us, st->nconnect, o);
    if (o->ws)
        lat("upgrade", st->upgrade_us, st->nupgrade, o);
    if (st->first.stage != PW_PROBE_ST_NONE) {
        char src[64] = "";
        if (st->first.src >= 0) {
            strcpy(src, ", from ");
            addr_str(&o->src[st->first.src], src + 7, sizeof src - 7);
        }
        row(o, "first error", "%s at attempt %zu (%s%s, %.3f s): %s", e->name,
            st->first.index + 1, stage_name(st->first.stage), src, st->first.at, e->meaning);
        if (*e->limit)
            row(o, "limit hit", "%s", e->limit);
    }
    if (st->stopped == 1)
        row(o, "stopped", "opening stopped at the first resource error (%s)", e->name);
    if (st->stopped == 2)
        row(o, "stopped", "interrupted");
}

static int probe(struct pc_opts *o, const char *target)
{
    char host[256], port[8], err[256];
    if (pw_probe_parse_target(target, host, sizeof host, port, sizeof port, err, sizeof err)) {
        pw_err(A, "bad target %s", err);
        return PW_EXIT_USAGE;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0) {
        pw_err(A, "cannot resolve '%s': %s", host, gai_strerror(g));
        return PW_EXIT_CONNECT;
    }
    struct pw_probe_cfg cfg = {0};
    memcpy(&cfg.dst, ai->ai_addr, ai->ai_addrlen);
    cfg.dstlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    for (size_t i = 0; i < o->nsrc; i++)
        if (o->src[i].ss_family != cfg.dst.ss_family) {
            pw_err(A, "source addresses and '%s' are of different families (IPv4/IPv6)", host);
            return PW_EXIT_USAGE;
        }
    char hosthdr[300];
    snprintf(hosthdr, sizeof hosthdr, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);

    struct rlimit rl;
    struct pw_limits l;
    probe_limits(o, &rl, &l);
    cfg.src = o->nsrc ? o->src : NULL;
    cfg.nsrc = o->nsrc;
    cfg.connections = o->connections;
    cfg.parallel = o->parallel;
    cfg.rate = o->rate;
    cfg.timeout = o->timeout;
    cfg.hold = o->hold;
    cfg.ws_path = o->ws;
    cfg.host = hosthdr;
    cfg.stop = &pc_stop;
    cfg.progress_interval = 0.1;
    if (!o->json && !pw_quiet && isatty(STDERR_FILENO)) {
        cfg.progress = progress;
        cfg.ud = o;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    struct pw_probe_stats st;
    int r = pw_probe_run(&cfg, &st);
    if (r != 0) {
        pw_err(A, "cannot run the probe: %s%s%s", pw_strerror(r), st.first.sys ? ": " : "",
               st.first.sys ? strerror(st.first.sys) : "");
        pw_probe_free(&st);
        return PW_EXIT_FAIL;
    }
    struct pc_err e;
    explain(&st, o, &rl, &l, &e);
    int rc = probe_exit(&st, o);
    double rate = st.open_secs > 0 ? (double)(o->ws ? st.upgraded : st.connected) / st.open_secs
                                   : 0;
    if (o->json)
        print_json(o, &st, &e, &rl, hosthdr, rate, rc);
    else
        print_text(o, &st, &e, hosthdr, rate);
    if (rc != PW_EXIT_OK && !o->json) {
        size_t ok = o->ws ? st.upgraded : st.connected;
        char dropped[64] = "";
        if (st.dropped)
            snprintf(dropped, sizeof dropped, ", %zu dropped while held", st.dropped);
        pw_err(A, "%zu of %zu connections %s%s%s%s", ok, o->connections,
               o->ws ? "upgraded" : "connected", dropped, *e.name ? "; first error " : "",
               e.name);
    }
    pw_probe_free(&st);
    return rc;
}

static int portcheck_main(int argc, char **argv)
{
    struct pc_opts o = {.target = -1};
    static struct sockaddr_storage src[PW_PROBE_MAX_SOURCES];
    int had_probe_opt = 0;
    struct pw_optstate st;
    pw_opt_begin(&st, &pw_applet_portcheck, argc, argv);
    int id, rc = -1;
    char err[256];
    while (rc < 0 && (id = pw_opt_next(&st)) != PW_OPT_END) {
        switch (id) {
        case PW_OPT_ERR: rc = PW_EXIT_USAGE; break;
        case OPT_HELP: pw_usage(&pw_applet_portcheck); rc = PW_EXIT_OK; break;
        case OPT_VERBOSE: break;
        case OPT_QUIET: pw_quiet = 1; break;
        case OPT_JSON: o.json = 1; break;
        case OPT_SERVER: o.server = 1; break;
        case OPT_TARGET: o.target = (long long)st.u; break;
        case OPT_CONNECTIONS: o.connections = (size_t)st.u; break;
        case OPT_PARALLEL:
            had_probe_opt |= st.given;
            o.parallel = (size_t)st.u;
            break;
        case OPT_SOURCE: {
            int r = pw_probe_parse_sources(st.arg, src, PW_PROBE_MAX_SOURCES, &o.nsrc, err,
                                           sizeof err);
            if (r) {
                char what[sizeof err + 32];
                snprintf(what, sizeof what, "not a source list (%s)", err);
                rc = pw_badarg(&st, what, "numeric addresses A,B,... or ranges A-B");
            }
            o.source = st.arg;
            o.src = src;
            break;
        }
        case OPT_WS:
            had_probe_opt = 1;
            if (st.arg[0] != '/' || strpbrk(st.arg, " \r\n\t") || strlen(st.arg) > 512)
                rc = pw_badarg(&st, "not a path", "one starting with '/', no spaces, at most 512 bytes");
            o.ws = st.arg;
            break;
        case OPT_HOLD: had_probe_opt |= st.given; o.hold = st.d; break;
        case OPT_RATE: had_probe_opt = 1; o.rate = st.d; break;
        case OPT_TIMEOUT: had_probe_opt |= st.given; o.timeout = st.d; break;
        }
    }
    int ind = st.ind;
    pw_opt_end(&st);
    if (rc >= 0)
        return rc;
    int nops = argc - ind;
    o.tty = isatty(STDOUT_FILENO);
    if (nops > 1) {
        pw_err(A, "one HOST:PORT at most, got '%s' too; see 'pushwire portcheck --help'",
               argv[ind + 1]);
        return PW_EXIT_USAGE;
    }
    if (nops == 0) {
        if (o.connections || had_probe_opt) {
            pw_err(A, "--connections, --ws, --hold, --rate, --parallel and --timeout need "
                      "HOST:PORT to probe");
            return PW_EXIT_USAGE;
        }
        return report(&o);
    }
    if (!o.connections) {
        pw_err(A, "probing '%s' needs --connections N", argv[ind]);
        return PW_EXIT_USAGE;
    }
    if (o.target >= 0 || o.server) {
        pw_err(A, "--target and --server are for the report without HOST:PORT");
        return PW_EXIT_USAGE;
    }
    return probe(&o, argv[ind]);
}
