/* tls_heap.c — what OpenSSL keeps per idle server TLS connection (make bench;
 * not part of the tests).  RSS per connection (bench_tls.sh's idle row) also
 * counts malloc's overhead and fragmentation; this counts the heap bytes
 * themselves, so a figure over the 8 KiB target can be read as "OpenSSL's
 * floor" or "ours".
 *
 *   tls_heap [N]    N server connections (default 50), each after a full
 *                   TLS 1.3 handshake with ECDSA P-256, one tiny read, the
 *                   client side freed
 *
 * Every allocation OpenSSL makes goes through CRYPTO_set_mem_functions;
 * the ones still alive are summed per source line.  The server side is the
 * serve's own: tls/tls.c's pump, SSL_MODE_RELEASE_BUFFERS, a context
 * without session cache and with one ticket, as srv_tls.c sets it up.
 * Output: `heap_per_conn=BYTES allocs_per_conn=K version=V`, then the
 * largest sites, one a line.  Exit 1 on a setup failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tls/tls.h"

#define MAX_LIVE (1 << 16) /* allocations alive at once while tracking */
#define MAX_CONNS 1000

struct alloc {
    void *p;
    size_t n;
    const char *file;
    int line;
};
static struct alloc live[MAX_LIVE];
static size_t nlive;
static int tracking, overflow;

static void note(void *p, size_t n, const char *file, int line)
{
    if (!p || !tracking)
        return;
    if (nlive == MAX_LIVE) {
        overflow = 1;
        return;
    }
    live[nlive++] = (struct alloc){p, n, file, line};
}

/* newest first: what is freed soon was mostly allocated recently */
static struct alloc *find(const void *p)
{
    for (size_t i = nlive; p && i-- > 0;)
        if (live[i].p == p)
            return &live[i];
    return NULL;
}

static void forget(void *p)
{
    struct alloc *a = find(p);
    if (a)
        *a = live[--nlive];
}

static void *h_malloc(size_t n, const char *file, int line)
{
    void *p = malloc(n);
    note(p, n, file, line);
    return p;
}

static void *h_realloc(void *o, size_t n, const char *file, int line)
{
    struct alloc *a = find(o); /* before realloc: o may be gone after it */
    void *p = realloc(o, n);
    if (!p && n)
        return NULL; /* o is unchanged, and so is its entry */
    if (a && p)
        *a = (struct alloc){p, n, file, line};
    else if (a)
        *a = live[--nlive];
    else
        note(p, n, file, line);
    return p;
}

static void h_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    forget(p);
    free(p);
}

/* A self-signed P-256 certificate made here; the serve's settings. */
static SSL_CTX *server_ctx(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!k || !x || !ctx)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    X509_set_pubkey(x, k);
    X509_sign(x, k, EVP_sha256());
    pw_tls_ctx_harden(ctx);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 1);
    int ok = SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1;
    X509_free(x);
    EVP_PKEY_free(k);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* Hands everything in *from to `to`: handshake, then reads (discarded). */
static int deliver(struct pw_buf *from, struct pw_tls *to)
{
    static uint8_t sink[16384];
    int r = 1;
    pw_tls_input(to, from->p, from->len);
    if (!pw_tls_open(to))
        r = pw_tls_handshake(to);
    if (r > 0)
        while ((r = (int)pw_tls_read(to, sink, sizeof sink)) > 0)
            ;
    pw_buf_reset(from);
    return r < 0 ? -1 : 0;
}

/* One server connection, handshaken and idle; the client is freed. */
static int one_conn(struct pw_tls *s, SSL_CTX *sctx, SSL_CTX *cctx)
{
    struct pw_tls c;
    struct pw_buf c_out, s_out;
    pw_buf_init(&c_out, 0);
    pw_buf_init(&s_out, 0);
    int rc = pw_tls_init(&c, cctx, 0, &c_out) || pw_tls_init(s, sctx, 1, &s_out) ? -1 : 0;
    if (rc == 0)
        pw_tls_handshake(&c); /* ClientHello */
    for (int i = 0; rc == 0 && i < 10 && !(pw_tls_open(&c) && pw_tls_open(s)); i++)
        rc = deliver(&c_out, s) || deliver(&s_out, &c) ? -1 : 0;
    if (rc == 0 && !(pw_tls_open(&c) && pw_tls_open(s)))
        rc = -1;
    if (rc == 0 && (pw_tls_write(&c, "x", 1) || deliver(&c_out, s)))
        rc = -1;
    s->out = NULL; /* the serve's connection holds no output buffer while idle */
    pw_tls_free(&c);
    pw_buf_free(&c_out);
    pw_buf_free(&s_out);
    return rc;
}

/* Sums what is alive per source line and prints the sites over 64 bytes a
 * connection, largest first (a selection sort: the list is short). */
static void report_sites(size_t nconn)
{
    size_t n = 0;
    for (size_t i = 0; i < nlive; i++) { /* merge each line into its first entry */
        size_t j;
        for (j = 0; j < n; j++)
            if (live[j].line == live[i].line && live[j].file && live[i].file &&
                strcmp(live[j].file, live[i].file) == 0)
                break;
        if (j < n) {
            live[j].n += live[i].n;
            live[j].p = (char *)live[j].p + 1; /* p counts the allocations now */
        } else {
            live[n] = live[i];
            live[n++].p = (void *)1;
        }
    }
    for (size_t i = 0; i < n; i++) {
        size_t m = i;
        for (size_t j = i + 1; j < n; j++)
            if (live[j].n > live[m].n)
                m = j;
        struct alloc t = live[i];
        live[i] = live[m];
        live[m] = t;
        if (live[i].n / nconn < 64)
            break;
        printf("%6zu B %5.1f allocs  %s:%d\n", live[i].n / nconn,
               (double)(size_t)live[i].p / (double)nconn, live[i].file ? live[i].file : "?",
               live[i].line);
    }
}

int main(int argc, char **argv)
{
    size_t nconn = argc > 1 ? strtoul(argv[1], NULL, 10) : 50;
    if (nconn < 1 || nconn > MAX_CONNS) {
        fprintf(stderr, "tls_heap: N must be 1..%d\n", MAX_CONNS);
        return 1;
    }
    if (!CRYPTO_set_mem_functions(h_malloc, h_realloc, h_free)) {
        fprintf(stderr, "tls_heap: OpenSSL's allocator is already in use\n");
        return 1;
    }
    SSL_CTX *sctx = server_ctx(), *cctx = SSL_CTX_new(TLS_client_method());
    static struct pw_tls s[MAX_CONNS];
    if (!sctx || !cctx || (pw_tls_ctx_harden(cctx), one_conn(&s[0], sctx, cctx))) {
        fprintf(stderr, "tls_heap: setup failed\n");
        return 1;
    }
    pw_tls_free(&s[0]); /* a warm-up: OpenSSL's one-time tables are not a connection's */
    tracking = 1;
    for (size_t i = 0; i < nconn; i++)
        if (one_conn(&s[i], sctx, cctx)) {
            fprintf(stderr, "tls_heap: handshake %zu failed\n", i);
            return 1;
        }
    tracking = 0;
    if (overflow) {
        fprintf(stderr, "tls_heap: more than %d allocations alive; give a smaller N\n", MAX_LIVE);
        return 1;
    }
    size_t total = 0;
    for (size_t i = 0; i < nlive; i++)
        total += live[i].n;
    printf("heap_per_conn=%zu allocs_per_conn=%zu version=%s\n", total / nconn, nlive / nconn,
           SSL_get_version(s[0].ssl));
    report_sites(nconn);
    for (size_t i = 0; i < nconn; i++)
        pw_tls_free(&s[i]);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return 0;
}
