#include "hostlimits.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "proto/pw_err.h"

#define PW__CAP_SYS_RESOURCE 24 /* linux/capability.h */

size_t pw_limits_parse_ints(const char *s, long long *out, size_t max)
{
    size_t n = 0;
    while (n < max) {
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        if (!isdigit((unsigned char)*s) && !(*s == '-' && isdigit((unsigned char)s[1])))
            break;
        errno = 0;
        char *end;
        long long v = strtoll(s, &end, 10);
        if (errno || (*end && *end != ' ' && *end != '\t' && *end != '\n'))
            break;
        out[n++] = v;
        s = end;
    }
    return n;
}

long long pw_limits_reserved_in(const char *s, long long lo, long long hi)
{
    long long count = 0;
    while (*s == ' ' || *s == '\n')
        s++;
    while (*s) {
        char *end;
        errno = 0;
        long long a = strtoll(s, &end, 10), b;
        if (errno || end == s || a < 0 || a > 65535)
            return -1;
        s = end;
        b = a;
        if (*s == '-') {
            s++;
            b = strtoll(s, &end, 10);
            if (errno || end == s || b < a || b > 65535)
                return -1;
            s = end;
        }
        long long from = a > lo ? a : lo, to = b < hi ? b : hi;
        if (to >= from)
            count += to - from + 1;
        if (*s == ',')
            s++;
        else if (*s == '\n' || *s == ' ')
            while (*s == '\n' || *s == ' ')
                s++;
        else if (*s)
            return -1;
    }
    /* overlapping entries are not double-counted past the whole range */
    return count < hi - lo + 1 ? count : hi - lo + 1;
}

/* Reads a small file under proc into buf (NUL-terminated).  0 or -1. */
static int pw__readfile(const char *proc, const char *rel, char *buf, size_t sz)
{
    char path[512];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", proc, rel) >= sizeof path)
        return -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sz - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return -1;
    buf[n] = 0;
    return 0;
}

/* First `n` integers of a /proc/sys file into out; -1 left where missing. */
static void pw__readints(const char *proc, const char *rel, long long *out, size_t n)
{
    char buf[256];
    for (size_t i = 0; i < n; i++)
        out[i] = -1;
    if (pw__readfile(proc, rel, buf, sizeof buf) != 0)
        return;
    long long v[8];
    size_t got = pw_limits_parse_ints(buf, v, n < 8 ? n : 8);
    for (size_t i = 0; i < got; i++)
        out[i] = v[i];
}

static long long pw__meminfo(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
            long long v;
            if (pw_limits_parse_ints(p + kl + 1, &v, 1) == 1 && v >= 0)
                return v * 1024; /* "kB" */
            return -1;
        }
    }
    return -1;
}

static int pw__has_cap(const char *status, int cap)
{
    const char *p = strstr(status, "\nCapEff:");
    if (!p)
        return 0;
    unsigned long long v = strtoull(p + 8, NULL, 16);
    return (int)((v >> cap) & 1);
}

static long long pw__count_fds(const char *proc)
{
    char path[512];
    if ((size_t)snprintf(path, sizeof path, "%s/self/fd", proc) >= sizeof path)
        return -1;
    DIR *d = opendir(path);
    if (!d)
        return -1;
    long long n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : n; /* the directory stream itself */
}

static long long pw__rlim(rlim_t v)
{
    return v == RLIM_INFINITY ? PW_LIM_UNLIMITED : (long long)v;
}

int pw_limits_read(struct pw_limits *l, const char *proc)
{
    memset(l, 0xff, sizeof *l); /* every long long field -1 */
    l->cap_sys_resource = 0;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return PW_EIO;
    l->nofile_soft = pw__rlim(rl.rlim_cur);
    l->nofile_hard = pw__rlim(rl.rlim_max);

    static char big[8192]; /* /proc/self/status and /proc/meminfo fit */
    if (pw__readfile(proc, "self/status", big, sizeof big) == 0)
        l->cap_sys_resource = pw__has_cap(big, PW__CAP_SYS_RESOURCE);
    l->fds_open = pw__count_fds(proc);

    long long v[3];
    pw__readints(proc, "sys/fs/file-max", &l->file_max, 1);
    pw__readints(proc, "sys/fs/nr_open", &l->nr_open, 1);
    pw__readints(proc, "sys/fs/file-nr", v, 1);
    l->files_in_use = v[0];
    pw__readints(proc, "sys/net/ipv4/ip_local_port_range", v, 2);
    l->port_lo = v[0];
    l->port_hi = v[1];
    if (l->port_lo > l->port_hi || l->port_lo < 0)
        l->port_lo = l->port_hi = -1;
    char buf[4096];
    if (l->port_lo >= 0 &&
        pw__readfile(proc, "sys/net/ipv4/ip_local_reserved_ports", buf, sizeof buf) == 0)
        l->port_reserved = pw_limits_reserved_in(buf, l->port_lo, l->port_hi);
    pw__readints(proc, "sys/net/core/somaxconn", &l->somaxconn, 1);
    pw__readints(proc, "sys/net/ipv4/tcp_max_syn_backlog", &l->syn_backlog, 1);
    pw__readints(proc, "sys/net/ipv4/tcp_tw_reuse", &l->tw_reuse, 1);
    pw__readints(proc, "sys/net/netfilter/nf_conntrack_max", &l->conntrack_max, 1);
    pw__readints(proc, "sys/net/netfilter/nf_conntrack_count", &l->conntrack_count, 1);
    pw__readints(proc, "sys/net/ipv4/tcp_rmem", &l->tcp_rmem_min, 1);
    pw__readints(proc, "sys/net/ipv4/tcp_wmem", &l->tcp_wmem_min, 1);
    pw__readints(proc, "sys/net/ipv4/tcp_mem", v, 3);
    l->tcp_mem_max = v[2];
    if (pw__readfile(proc, "meminfo", big, sizeof big) == 0) {
        l->mem_available = pw__meminfo(big, "MemAvailable");
        l->mem_total = pw__meminfo(big, "MemTotal");
    }
    long ps = sysconf(_SC_PAGESIZE);
    l->page_size = ps > 0 ? ps : 4096;
    return 0;
}

long long pw_limits_ports(const struct pw_limits *l)
{
    if (l->port_lo < 0 || l->port_hi < l->port_lo)
        return 0;
    long long n = l->port_hi - l->port_lo + 1;
    if (l->port_reserved > 0)
        n -= l->port_reserved;
    return n > 0 ? n : 0;
}

void pw_limits_conn_cost(const struct pw_limits *l, struct pw_conn_cost *c)
{
    c->kernel = PW_CONN_KERNEL_BYTES;
    c->buffers = (l->tcp_rmem_min > 0 ? l->tcp_rmem_min : 4096) +
                 (l->tcp_wmem_min > 0 ? l->tcp_wmem_min : 4096);
    c->pushwire = PW_CONN_PUSHWIRE_BYTES;
    c->total = c->kernel + c->buffers + c->pushwire;
}

static const struct {
    const char *key, *name;
} pw__limnames[PW_LIM_COUNT] = {
    [PW_LIM_OPEN_FILES] = {"open_files", "open files (RLIMIT_NOFILE soft)"},
    [PW_LIM_FILE_MAX] = {"file_max", "system file table (fs.file-max)"},
    [PW_LIM_NR_OPEN] = {"nr_open", "per-process ceiling (fs.nr_open)"},
    [PW_LIM_PORTS] = {"ports", "ephemeral ports (ip_local_port_range)"},
    [PW_LIM_CONNTRACK] = {"conntrack", "conntrack table (nf_conntrack_max)"},
    [PW_LIM_TCP_MEM] = {"tcp_mem", "TCP buffer memory (tcp_mem)"},
    [PW_LIM_MEMORY] = {"memory", "memory (MemAvailable)"},
};

int pw_limits_capacity(const struct pw_limits *l, const struct pw_capacity_opts *o,
                       struct pw_capacity out[PW_LIM_COUNT])
{
    for (int i = 0; i < PW_LIM_COUNT; i++) {
        out[i].id = (enum pw_limit_id)i;
        out[i].key = pw__limnames[i].key;
        out[i].name = pw__limnames[i].name;
        out[i].cap = -1;
    }
    long long fds = l->fds_open > 0 ? l->fds_open : 3;
    if (l->nofile_soft == PW_LIM_UNLIMITED)
        out[PW_LIM_OPEN_FILES].cap = l->nr_open >= 0 ? l->nr_open - fds : -1;
    else if (l->nofile_soft >= 0)
        out[PW_LIM_OPEN_FILES].cap = l->nofile_soft > fds ? l->nofile_soft - fds : 0;
    if (l->file_max >= 0 && l->files_in_use >= 0)
        out[PW_LIM_FILE_MAX].cap =
            l->file_max > l->files_in_use ? l->file_max - l->files_in_use : 0;
    if (l->nr_open >= 0)
        out[PW_LIM_NR_OPEN].cap = l->nr_open > fds ? l->nr_open - fds : 0;
    if (!o->server && l->port_lo >= 0)
        out[PW_LIM_PORTS].cap = pw_limits_ports(l) * (o->sources > 0 ? o->sources : 1);
    if (l->conntrack_max >= 0) {
        long long used = l->conntrack_count > 0 ? l->conntrack_count : 0;
        out[PW_LIM_CONNTRACK].cap = l->conntrack_max > used ? l->conntrack_max - used : 0;
    }
    struct pw_conn_cost c;
    pw_limits_conn_cost(l, &c);
    if (l->tcp_mem_max >= 0)
        out[PW_LIM_TCP_MEM].cap = l->tcp_mem_max * l->page_size / c.buffers;
    if (l->mem_available >= 0)
        out[PW_LIM_MEMORY].cap = l->mem_available / c.total;
    int best = -1;
    for (int i = 0; i < PW_LIM_COUNT; i++)
        if (out[i].cap >= 0 && (best < 0 || out[i].cap < out[best].cap))
            best = i;
    return best;
}
