/* probe.h — a live connection-capacity probe: opens N real TCP connections
 * to one destination (non-blocking, many in flight, on plain epoll),
 * optionally performs a WebSocket opening handshake on each, holds them,
 * and records what happened: successes, latencies, and the first error.
 * Held WebSocket connections answer pings, so a --hold longer than the
 * server's ping timeout does not drop them.
 *
 * Nothing here prints or exits; progress is reported through a callback.
 * Source addresses are bound before connect() with IP_BIND_ADDRESS_NO_PORT
 * so that the kernel picks the port at connect() time by the whole 4-tuple,
 * and each source address gets the full ephemeral port range to the
 * destination.
 */
#ifndef PW_PROBE_H
#define PW_PROBE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PW_PROBE_MAX_SOURCES 4096

struct pw_probe_stats;

struct pw_probe_cfg {
    struct sockaddr_storage dst;
    socklen_t dstlen;
    const struct sockaddr_storage *src; /* borrowed; NULL: the kernel chooses */
    size_t nsrc;
    size_t connections;                 /* how many to open */
    size_t parallel;                    /* attempts in flight at most (>= 1) */
    double rate;                        /* attempts started per second; 0: no limit */
    double timeout;                     /* seconds per attempt: connect + upgrade */
    double hold;                        /* seconds to hold them after the last attempt */
    const char *ws_path;                /* NULL: plain TCP; else the upgrade target */
    const char *host;                   /* Host header for the upgrade */
    /* called about every progress_interval seconds and once per phase change */
    void (*progress)(const struct pw_probe_stats *st, void *ud);
    void *ud;
    double progress_interval;
    volatile sig_atomic_t *stop;        /* non-zero: end the run early (signal) */
};

enum pw_probe_phase { PW_PROBE_OPENING, PW_PROBE_HOLDING, PW_PROBE_DONE };

/* Which step of an attempt failed. */
enum pw_probe_stage {
    PW_PROBE_ST_NONE = 0,
    PW_PROBE_ST_SOCKET,  /* socket() */
    PW_PROBE_ST_BIND,    /* bind() of the source address */
    PW_PROBE_ST_CONNECT, /* connect() or the asynchronous connect result */
    PW_PROBE_ST_UPGRADE, /* sending the request or reading/checking the 101 */
    PW_PROBE_ST_HOLD,    /* the peer closed or reset a held connection */
};

struct pw_probe_err {
    enum pw_probe_stage stage;
    int sys;          /* errno (ETIMEDOUT for a --timeout expiry), 0 if none */
    int pw;           /* PW_E* of a malformed or refused upgrade response, 0 if none */
    int status;       /* HTTP status of a refused upgrade, 0 if none */
    int close_code;   /* close code the server sent to a held WebSocket, 0 if none */
    size_t index;     /* which attempt, 0-based */
    int src;          /* index of its source address, -1 when none */
    double at;        /* seconds since the start */
};

struct pw_probe_stats {
    enum pw_probe_phase phase;
    size_t attempted;   /* attempts started */
    size_t connected;   /* TCP connections established */
    size_t upgraded;    /* WebSocket upgrades completed (with ws_path) */
    size_t failed;      /* attempts that ended in an error */
    size_t open;        /* connections open right now */
    size_t peak_open;   /* most connections open at once */
    size_t held;        /* open when the last attempt ended: all at once */
    size_t dropped;     /* established, then closed by the peer while held */
    size_t sources_exhausted; /* source addresses that ran out of ports */
    /* failures by cause */
    size_t err_emfile, err_enfile, err_addrnotavail, err_refused, err_timeout,
        err_reset, err_upgrade, err_nomem, err_other;
    struct pw_probe_err first; /* the first failure (stage NONE if none) */
    int stopped;        /* opening stopped early: 1 on a resource error, 2 by *stop */
    double elapsed;     /* seconds since the start */
    double open_secs;   /* seconds until the last attempt ended */
    /* latencies in microseconds, one per success (owned; pw_probe_free) */
    uint32_t *connect_us; /* connect() to established */
    size_t nconnect;
    uint32_t *upgrade_us; /* established to a verified 101 */
    size_t nupgrade;
};

/* Runs the probe to the end (all attempts finished, held, closed).  Returns
 * 0 (the outcome is in st, even when every attempt failed), PW_EINVAL for
 * a bad cfg, PW_ENOMEM, or PW_EIO when epoll itself cannot be set up
 * (st->first.sys says why).  Free st with pw_probe_free in every case. */
int pw_probe_run(const struct pw_probe_cfg *cfg, struct pw_probe_stats *st);
void pw_probe_free(struct pw_probe_stats *st);

/* The p-th percentile (0..100) of v[0..n), nearest rank; sorts v.  0 if n == 0. */
uint32_t pw_probe_percentile(uint32_t *v, size_t n, double p);

/* What an errno means for connection capacity, and the key of the limit it
 * points at ("open_files", "file_max", "ports", "backlog", "server",
 * "memory", "route", or "" when it names none).  Static strings. */
const char *pw_probe_explain(int sys, const char **limit_key);

/* "HOST:PORT" or "[V6]:PORT" into host and port (NUL-terminated).
 * 0, or PW_EINVAL with a reason in err. */
int pw_probe_parse_target(const char *s, char *host, size_t hostsz, char *port,
                          size_t portsz, char *err, size_t errsz);

/* Source addresses: "A,B,C" and/or ranges "A-B" of IPv4 (127.0.0.2-127.0.0.9)
 * or IPv6 differing in the last 32 bits, mixed by commas.  Numeric only.
 * Fills out[0..max) and *n.  0, or PW_EINVAL / PW_ETOOBIG (more than max)
 * with a reason in err. */
int pw_probe_parse_sources(const char *s, struct sockaddr_storage *out, size_t max,
                           size_t *n, char *err, size_t errsz);

#endif
