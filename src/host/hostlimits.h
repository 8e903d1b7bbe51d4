/* hostlimits.h — what bounds the number of TCP connections a process can
 * hold: RLIMIT_NOFILE, the kernel's file and port tables, conntrack, memory.
 * (Not "limits.h": with -Isrc it would shadow the C library's <limits.h>.)
 *
 * pw_limits_read() reads the live values (getrlimit and files under a /proc
 * root, so tests can point it at a fake tree); pw_limits_capacity() turns
 * them into "connections this limit allows", pure arithmetic.  Nothing here
 * prints or exits.  Every numeric field is -1 when the kernel does not
 * expose it (e.g. conntrack when nf_conntrack is not loaded).
 */
#ifndef PW_HOSTLIMITS_H
#define PW_HOSTLIMITS_H

#include <stddef.h>

/* RLIM_INFINITY is reported as this value */
#define PW_LIM_UNLIMITED (-2LL)

struct pw_limits {
    long long nofile_soft, nofile_hard; /* RLIMIT_NOFILE of this process */
    int cap_sys_resource;               /* 1: may raise the hard limit too */
    long long fds_open;                 /* descriptors open in this process now */
    long long file_max;                 /* fs.file-max */
    long long nr_open;                  /* fs.nr_open: ceiling of any RLIMIT_NOFILE */
    long long files_in_use;             /* fs.file-nr, first field */
    long long port_lo, port_hi;         /* net.ipv4.ip_local_port_range */
    long long port_reserved;            /* ports of that range in ip_local_reserved_ports */
    long long somaxconn;                /* net.core.somaxconn */
    long long syn_backlog;              /* net.ipv4.tcp_max_syn_backlog */
    long long tw_reuse;                 /* net.ipv4.tcp_tw_reuse */
    long long conntrack_max;            /* net.netfilter.nf_conntrack_max */
    long long conntrack_count;          /* net.netfilter.nf_conntrack_count */
    long long mem_available;            /* bytes, MemAvailable of /proc/meminfo */
    long long mem_total;                /* bytes */
    long long tcp_rmem_min, tcp_wmem_min; /* first fields of tcp_rmem/tcp_wmem */
    long long tcp_mem_max;              /* third field of net.ipv4.tcp_mem, pages */
    long long page_size;
};

/* Reads everything; `proc` is "/proc" normally.  Missing files leave -1.
 * Returns 0, or PW_EIO when RLIMIT_NOFILE itself cannot be read. */
int pw_limits_read(struct pw_limits *l, const char *proc);

/* Ephemeral ports one source address has for one destination (0 if unknown). */
long long pw_limits_ports(const struct pw_limits *l);

/* Estimated memory one held, idle TCP connection costs (one end), and its
 * parts.  Basis: kernel socket objects (tcp_sock, socket inode, file,
 * dentry, epoll item: PW_CONN_KERNEL_BYTES), plus the minimum receive and
 * send buffers the kernel guarantees a socket (tcp_rmem[0] + tcp_wmem[0]),
 * plus pushwire's own per-connection state and read buffer
 * (PW_CONN_PUSHWIRE_BYTES). */
#define PW_CONN_KERNEL_BYTES 4096LL
#define PW_CONN_PUSHWIRE_BYTES 4096LL
struct pw_conn_cost {
    long long kernel, buffers, pushwire, total;
};
void pw_limits_conn_cost(const struct pw_limits *l, struct pw_conn_cost *c);

/* One row per limit that caps held connections. */
enum pw_limit_id {
    PW_LIM_OPEN_FILES, /* RLIMIT_NOFILE soft, minus descriptors already open */
    PW_LIM_FILE_MAX,   /* fs.file-max minus files in use, system wide */
    PW_LIM_NR_OPEN,    /* fs.nr_open: no process may hold more, ever */
    PW_LIM_PORTS,      /* ephemeral ports x source addresses (outgoing only) */
    PW_LIM_CONNTRACK,  /* nf_conntrack_max minus entries in use */
    PW_LIM_TCP_MEM,    /* tcp_mem max / minimum buffers per socket */
    PW_LIM_MEMORY,     /* MemAvailable / per-connection estimate */
    PW_LIM_COUNT
};

struct pw_capacity {
    enum pw_limit_id id;
    const char *key;   /* stable JSON key: "open_files", "ports", ... */
    const char *name;  /* human name: "open files (RLIMIT_NOFILE soft)" */
    long long cap;     /* connections this limit allows; -1 unknown or n/a */
};

struct pw_capacity_opts {
    long long sources; /* source addresses for outgoing connections (>= 1) */
    int server;        /* 1: count incoming connections (no ephemeral ports) */
};

/* Fills out[PW_LIM_COUNT] (indexed by id) and returns the id of the limit
 * that binds first (the smallest known capacity), or -1 if none is known. */
int pw_limits_capacity(const struct pw_limits *l, const struct pw_capacity_opts *o,
                       struct pw_capacity out[PW_LIM_COUNT]);

/* Parses up to `max` whitespace-separated integers from s.  Returns how many
 * were read (a bad token ends the list).  Used on /proc/sys values. */
size_t pw_limits_parse_ints(const char *s, long long *out, size_t max);

/* Counts the ports of [lo,hi] named by an ip_local_reserved_ports value
 * ("8080,9000-9010"); -1 if it is malformed. */
long long pw_limits_reserved_in(const char *s, long long lo, long long hi);

#endif
