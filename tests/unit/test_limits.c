/* test_limits.c — the limits reader against a fake /proc tree, the capacity
 * arithmetic, and the probe's argument parsers. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/hostlimits.h"
#include "host/probe.h"
#include "proto/pw_err.h"
#include "tap.h"

static char root[256];

static void put(const char *rel, const char *text)
{
    char path[512], dir[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(dir, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static void fake_proc(void)
{
    snprintf(root, sizeof root, "/tmp/pw-limits-%d", (int)getpid());
    mkdir(root, 0755);
    put("sys/fs/file-max", "100000\n");
    put("sys/fs/nr_open", "1048576\n");
    put("sys/fs/file-nr", "2000\t0\t100000\n");
    put("sys/net/ipv4/ip_local_port_range", "32768\t60999\n");
    put("sys/net/ipv4/ip_local_reserved_ports", "8080,40000-40009\n");
    put("sys/net/core/somaxconn", "4096\n");
    put("sys/net/ipv4/tcp_max_syn_backlog", "2048\n");
    put("sys/net/ipv4/tcp_tw_reuse", "2\n");
    put("sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
    put("sys/net/ipv4/tcp_wmem", "4096\t16384\t4194304\n");
    put("sys/net/ipv4/tcp_mem", "1000\t2000\t3000\n");
    put("meminfo", "MemTotal:       2048000 kB\nMemFree:  1 kB\nMemAvailable:    1024000 kB\n");
    put("self/status", "Name:\tx\nCapInh:\t0000000000000000\nCapEff:\t0000000001000000\n");
}

static void test_read(void)
{
    struct pw_limits l;
    IS(pw_limits_read(&l, root), 0, "reads a fake /proc");
    IS(l.file_max, 100000, "fs.file-max");
    IS(l.nr_open, 1048576, "fs.nr_open");
    IS(l.files_in_use, 2000, "fs.file-nr first field");
    IS(l.port_lo, 32768, "port range low");
    IS(l.port_hi, 60999, "port range high");
    IS(l.port_reserved, 10, "reserved ports inside the range are counted");
    IS(pw_limits_ports(&l), 28232 - 10, "usable ports exclude reserved ones");
    IS(l.somaxconn, 4096, "somaxconn");
    IS(l.syn_backlog, 2048, "tcp_max_syn_backlog");
    IS(l.tw_reuse, 2, "tcp_tw_reuse");
    IS(l.conntrack_max, -1, "conntrack absent is -1");
    IS(l.mem_available, 1024000LL * 1024, "MemAvailable in bytes");
    IS(l.tcp_mem_max, 3000, "tcp_mem third field");
    IS(l.cap_sys_resource, 1, "CAP_SYS_RESOURCE read from CapEff bit 24");
    OK(l.nofile_soft > 0, "RLIMIT_NOFILE comes from getrlimit");

    l.nofile_soft = 1000;
    l.nofile_hard = 4096;
    l.fds_open = 10;
    struct pw_capacity cap[PW_LIM_COUNT];
    struct pw_capacity_opts o = {.sources = 1};
    int b = pw_limits_capacity(&l, &o, cap);
    IS(b, PW_LIM_OPEN_FILES, "the open-files limit binds first");
    IS(cap[PW_LIM_OPEN_FILES].cap, 990, "open files: soft minus open descriptors");
    IS(cap[PW_LIM_FILE_MAX].cap, 98000, "file-max minus in use");
    IS(cap[PW_LIM_PORTS].cap, 28222, "ports for one source");
    IS(cap[PW_LIM_CONNTRACK].cap, -1, "no conntrack row without the module");
    IS(cap[PW_LIM_TCP_MEM].cap, 3000LL * l.page_size / 8192, "tcp_mem pages over minimum buffers");
    struct pw_conn_cost c;
    pw_limits_conn_cost(&l, &c);
    IS(c.total, PW_CONN_KERNEL_BYTES + 8192 + PW_CONN_PUSHWIRE_BYTES, "per-connection estimate");
    IS(cap[PW_LIM_MEMORY].cap, 1024000LL * 1024 / c.total, "memory over the estimate");

    l.nofile_soft = 1000000;
    o.sources = 3;
    b = pw_limits_capacity(&l, &o, cap);
    IS(cap[PW_LIM_PORTS].cap, 3 * 28222, "each source address adds the port range");
    OK(b != PW_LIM_OPEN_FILES, "a big soft limit no longer binds");
    o.server = 1;
    pw_limits_capacity(&l, &o, cap);
    IS(cap[PW_LIM_PORTS].cap, -1, "a server needs no ephemeral ports");

    put("sys/net/netfilter/nf_conntrack_max", "65536\n");
    put("sys/net/netfilter/nf_conntrack_count", "536\n");
    pw_limits_read(&l, root);
    pw_limits_capacity(&l, &o, cap);
    IS(cap[PW_LIM_CONNTRACK].cap, 65000, "conntrack max minus entries in use");
}

static void test_parsers(void)
{
    long long v[4];
    IS(pw_limits_parse_ints("1 2\t3\n", v, 4), 3, "three integers");
    IS(v[2], 3, "third value");
    IS(pw_limits_parse_ints("12x 3", v, 4), 0, "a bad token ends the list");
    IS(pw_limits_parse_ints("", v, 4), 0, "empty");
    IS(pw_limits_reserved_in("", 100, 200), 0, "no reserved ports");
    IS(pw_limits_reserved_in("50-150,199,300\n", 100, 200), 52, "ranges clipped to the port range");
    IS(pw_limits_reserved_in("5-", 100, 200), -1, "malformed list");
    IS(pw_limits_reserved_in("9-3", 1, 200), -1, "backwards range");

    char h[64], p[8], err[128];
    IS(pw_probe_parse_target("127.0.0.1:8080", h, sizeof h, p, sizeof p, err, sizeof err), 0,
       "HOST:PORT");
    STREQ(h, "127.0.0.1", "host");
    STREQ(p, "8080", "port");
    IS(pw_probe_parse_target("[::1]:80", h, sizeof h, p, sizeof p, err, sizeof err), 0, "[v6]:PORT");
    STREQ(h, "::1", "v6 host without brackets");
    IS(pw_probe_parse_target("::1:80", h, sizeof h, p, sizeof p, err, sizeof err), PW_EINVAL,
       "bare IPv6 is refused");
    IS(pw_probe_parse_target("host", h, sizeof h, p, sizeof p, err, sizeof err), PW_EINVAL, "no port");
    IS(pw_probe_parse_target("h:0", h, sizeof h, p, sizeof p, err, sizeof err), PW_EINVAL, "port 0");
    IS(pw_probe_parse_target("h:65536", h, sizeof h, p, sizeof p, err, sizeof err), PW_EINVAL,
       "port too big");
    IS(pw_probe_parse_target(":80", h, sizeof h, p, sizeof p, err, sizeof err), PW_EINVAL,
       "empty host");

    struct sockaddr_storage ss[16];
    size_t n;
    IS(pw_probe_parse_sources("127.0.0.2-127.0.0.9", ss, 16, &n, err, sizeof err), 0, "a range");
    IS(n, 8, "eight addresses");
    char a[64];
    inet_ntop(AF_INET, &((struct sockaddr_in *)&ss[7])->sin_addr, a, sizeof a);
    STREQ(a, "127.0.0.9", "the range ends at its end");
    IS(pw_probe_parse_sources("10.0.0.255-10.0.1.1", ss, 16, &n, err, sizeof err), 0,
       "a range across an octet");
    IS(n, 3, "three addresses");
    IS(pw_probe_parse_sources("127.0.0.2,::1,fe80::1-fe80::3", ss, 16, &n, err, sizeof err), 0,
       "a mixed list");
    IS(n, 5, "five addresses");
    IS(ss[1].ss_family, AF_INET6, "IPv6 element");
    IS(pw_probe_parse_sources("127.0.0.1-127.0.0.100", ss, 16, &n, err, sizeof err), PW_ETOOBIG,
       "more than max");
    IS(pw_probe_parse_sources("127.0.0.3-127.0.0.2", ss, 16, &n, err, sizeof err), PW_EINVAL,
       "backwards range");
    IS(pw_probe_parse_sources("127.0.0.1-::1", ss, 16, &n, err, sizeof err), PW_EINVAL,
       "mixed families in a range");
    IS(pw_probe_parse_sources("fe80::1-fe81::3", ss, 16, &n, err, sizeof err), PW_EINVAL,
       "IPv6 range differing above the last 32 bits");
    IS(pw_probe_parse_sources("a,", ss, 16, &n, err, sizeof err), PW_EINVAL, "not an address");
    IS(pw_probe_parse_sources("127.0.0.1,", ss, 16, &n, err, sizeof err), PW_EINVAL,
       "trailing comma");
    IS(pw_probe_parse_sources(",127.0.0.1", ss, 16, &n, err, sizeof err), PW_EINVAL,
       "empty element");
    IS(pw_probe_parse_sources("", ss, 16, &n, err, sizeof err), PW_EINVAL, "empty list");
    IS(pw_probe_parse_sources("localhost", ss, 16, &n, err, sizeof err), PW_EINVAL,
       "names are not resolved");

    uint32_t lat[] = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    IS(pw_probe_percentile(lat, 10, 50), 5, "p50");
    IS(pw_probe_percentile(lat, 10, 99), 10, "p99");
    IS(pw_probe_percentile(lat, 0, 50), 0, "no samples");
    const char *k;
    pw_probe_explain(EMFILE, &k);
    STREQ(k, "open_files", "EMFILE points at the open-files limit");
    pw_probe_explain(EADDRNOTAVAIL, &k);
    STREQ(k, "ports", "EADDRNOTAVAIL points at the ports");
    pw_probe_explain(ETIMEDOUT, &k);
    STREQ(k, "backlog", "a timeout points at the backlog");
}

int main(void)
{
    fake_proc();
    test_read();
    test_parsers();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return tap_done();
}
