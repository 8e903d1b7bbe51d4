/* tls_heap.c — what OpenSSL keeps per idle server TLS connection (make bench;
 * not part of the tests).  RSS per connection (bench_tls.sh's idle row) also
 * counts malloc's overhead and fragmentation; this counts the heap bytes
 * themselves, by allocation site, so a figure over the 8 KiB target can be
 * read as "OpenSSL's floor" or "ours".
 *
 *   tls_heap [-n N] [-v 1.2|1.3] [-k ec|rsa] [-c aes128|aes256|chacha]
 *            [-l LEVER]... [-a]
 *
 * N server connections (default 50), each after a full handshake (TLS 1.3,
 * ECDSA P-256, AES-256-GCM by default: what OpenSSL clients pick), one tiny
 * read, the client side freed.  The server is the serve's own: tls/tls.c's
 * pump and pw_tls_ctx_server's settings.  The client offers SNI and ALPN
 * http/1.1, as browsers do.  A LEVER changes one thing, to measure it:
 *   norelease  SSL_MODE_RELEASE_BUFFERS cleared (what the mode saves)
 *   freebuf    SSL_free_buffers() once idle
 *   tickets0   SSL_CTX_set_num_tickets(0): no ticket sent
 *   tickets2   two tickets (OpenSSL's default)
 *   noticket   SSL_OP_NO_TICKET
 *   reneg      SSL_OP_NO_RENEGOTIATION cleared
 *   readahead  SSL_set_read_ahead(1)
 *   noalpn     the client offers no ALPN, and no SNI
 *   chain      a leaf signed by a CA, the CA sent as its chain (shared by
 *              the context: pw_tls_ctx_share_chain, as the serve does)
 *   chaincopy  with chain: the chain left on the certificate (OpenSSL's
 *              default), which SSL_new copies into every connection
 *   nosession  SSL_set_session(NULL) once idle (drops the server's
 *              reference; outside OpenSSL's documented use: measured only)
 *
 * Every allocation OpenSSL makes goes through CRYPTO_set_mem_functions and
 * is noted with its source line and the phase that made it (new: SSL_new,
 * hs: the handshake, read: the first record, idle: a lever applied once
 * idle).  Output: `heap_per_conn=BYTES allocs_per_conn=K version=V
 * cipher=C`, a `parts:` line (bytes per connection by what holds them), then
 * the sites (over 64 bytes a connection; -a: all), largest first.  Exit 1
 * on a setup failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    const char *phase;
};
static struct alloc live[MAX_LIVE];
static size_t nlive;
static int tracking, overflow;
static const char *phase = "setup";

static struct opts {
    size_t n;
    int tls12, rsa;
    const char *cipher;
    const char *lever[16];
    size_t nlever;
    int all;
} o = {.n = 50, .cipher = "aes256"};

static int lever(const char *name)
{
    for (size_t i = 0; i < o.nlever; i++)
        if (strcmp(o.lever[i], name) == 0)
            return 1;
    return 0;
}

/* ---- the allocator hooks ---- */

static void note(void *p, size_t n, const char *file, int line)
{
    if (!p || !tracking)
        return;
    if (nlive == MAX_LIVE) {
        overflow = 1;
        return;
    }
    live[nlive++] = (struct alloc){p, n, file, line, phase};
}

/* newest first: what is freed soon was mostly allocated recently */
static struct alloc *find(const void *p)
{
    for (size_t i = nlive; p && i-- > 0;)
        if (live[i].p == p)
            return &live[i];
    return NULL;
}

static void *h_malloc(size_t n, const char *file, int line)
{
    void *p = malloc(n);
    note(p, n, file, line);
    return p;
}

static void *h_realloc(void *old, size_t n, const char *file, int line)
{
    struct alloc *a = find(old); /* before realloc: old may be gone after it */
    void *p = realloc(old, n);
    if (!p && n)
        return NULL; /* old is unchanged, and so is its entry */
    if (a && p)
        *a = (struct alloc){p, n, file, line, phase};
    else if (a)
        *a = live[--nlive];
    else
        note(p, n, file, line);
    return p;
}

static void h_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    struct alloc *a = find(p);
    if (a)
        *a = live[--nlive];
    free(p);
}

/* ---- certificates and contexts ---- */

static EVP_PKEY *key_new(void)
{
    return o.rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

/* A certificate for cn with key k, signed by ca_key (as ca_name), or self-signed. */
static X509 *cert_new(EVP_PKEY *k, const char *cn, EVP_PKEY *ca_key, X509 *ca)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 2 : 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : nm);
    X509_set_pubkey(x, k);
    if (!X509_sign(x, ca_key ? ca_key : k, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* The serve's context with a certificate made here (and a CA with -l chain). */
static SSL_CTX *server_ctx(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    EVP_PKEY *k = key_new(), *cak = lever("chain") ? key_new() : NULL;
    X509 *ca = cak ? cert_new(cak, "heap CA", NULL, NULL) : NULL;
    X509 *x = k ? cert_new(k, "localhost", cak, ca) : NULL;
    int ok = ctx && x && (!lever("chain") || ca) && pw_tls_ctx_server(ctx) == 0 &&
             SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1 &&
             (!ca || SSL_CTX_add1_chain_cert(ctx, ca) == 1) &&
             (lever("chaincopy") || pw_tls_ctx_share_chain(ctx) == 0);
    X509_free(x);
    X509_free(ca);
    EVP_PKEY_free(k);
    EVP_PKEY_free(cak);
    if (ok && lever("tickets0"))
        SSL_CTX_set_num_tickets(ctx, 0);
    if (ok && lever("tickets2"))
        SSL_CTX_set_num_tickets(ctx, 2);
    if (ok && lever("noticket"))
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (ok && lever("reneg"))
        SSL_CTX_clear_options(ctx, SSL_OP_NO_RENEGOTIATION);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* A client that negotiates the version and cipher asked for. */
static SSL_CTX *client_ctx(void)
{
    static const char *const names[][3] = {
        /* -c       TLS 1.3 suite            TLS 1.2 (the key type's ECDHE suite follows) */
        {"aes128", "TLS_AES_128_GCM_SHA256", "AES128-GCM-SHA256"},
        {"aes256", "TLS_AES_256_GCM_SHA384", "AES256-GCM-SHA384"},
        {"chacha", "TLS_CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305"},
    };
    size_t i = 0;
    while (i < 3 && strcmp(names[i][0], o.cipher))
        i++;
    SSL_CTX *ctx = i < 3 ? SSL_CTX_new(TLS_client_method()) : NULL;
    if (!ctx)
        return NULL;
    pw_tls_ctx_harden(ctx);
    char tls12[64];
    snprintf(tls12, sizeof tls12, "ECDHE-%s-%s", o.rsa ? "RSA" : "ECDSA", names[i][2]);
    if (!SSL_CTX_set_ciphersuites(ctx, names[i][1]) || !SSL_CTX_set_cipher_list(ctx, tls12) ||
        (o.tls12 && !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION))) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/* ---- connections ---- */

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

/* The levers applied to a server connection: at SSL_new, and once idle. */
static void lever_new(SSL *ssl)
{
    if (lever("norelease"))
        SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
    if (lever("readahead"))
        SSL_set_read_ahead(ssl, 1);
}

static void lever_idle(SSL *ssl)
{
    phase = "idle";
    if (lever("freebuf"))
        SSL_free_buffers(ssl);
    if (lever("nosession"))
        SSL_set_session(ssl, NULL);
}

/* One server connection, handshaken and idle; the client is freed. */
static int one_conn(struct pw_tls *s, SSL_CTX *sctx, SSL_CTX *cctx)
{
    struct pw_tls c;
    struct pw_buf c_out, s_out;
    pw_buf_init(&c_out, 0);
    pw_buf_init(&s_out, 0);
    phase = "new";
    int rc = pw_tls_init(&c, cctx, 0, &c_out) || pw_tls_init(s, sctx, 1, &s_out) ? -1 : 0;
    if (rc == 0) {
        lever_new(s->ssl);
        if (!lever("noalpn")) {
            SSL_set_alpn_protos(c.ssl, pw_tls_alpn_http11, sizeof pw_tls_alpn_http11);
            SSL_set_tlsext_host_name(c.ssl, "localhost");
        }
        phase = "hs";
        pw_tls_handshake(&c); /* ClientHello */
    }
    for (int i = 0; rc == 0 && i < 10 && !(pw_tls_open(&c) && pw_tls_open(s)); i++)
        rc = deliver(&c_out, s) || deliver(&s_out, &c) ? -1 : 0;
    if (rc == 0 && !(pw_tls_open(&c) && pw_tls_open(s)))
        rc = -1;
    phase = "read";
    if (rc == 0 && (pw_tls_write(&c, "x", 1) || deliver(&c_out, s)))
        rc = -1;
    if (rc == 0)
        lever_idle(s->ssl);
    s->out = NULL; /* the serve's connection holds no output buffer while idle */
    phase = "setup";
    pw_tls_free(&c);
    pw_buf_free(&c_out);
    pw_buf_free(&s_out);
    return rc;
}

/* ---- the report ---- */

/* What holds a block, from its source file: OpenSSL 3.0's layout. */
static const char *part_of(const char *file)
{
    static const char *const parts[][2] = {
        {"ssl/ssl_lib.c", "ssl"},          {"ciphers/", "cipher"},
        {"evp/evp_enc.c", "cipher"},       {"ssl_sess.c", "session"},
        {"ssl/ssl_cert.c", "cert"},        {"digests/", "transcript"},
        {"evp/digest.c", "transcript"},    {"evp/p_lib.c", "keyshare"},
        {"crypto/ec/", "keyshare"},        {"crypto/dh/", "keyshare"},
        {"threads_pthread.c", "locks"},    {"bio/bio_lib.c", "bio"},
    };
    for (size_t i = 0; file && i < sizeof parts / sizeof parts[0]; i++)
        if (strstr(file, parts[i][0]))
            return parts[i][1];
    return "other";
}

static void report_parts(void)
{
    static const char *const order[] = {"ssl", "cipher", "session", "cert", "keyshare",
                                        "transcript", "locks", "bio", "other"};
    size_t sum[sizeof order / sizeof order[0]] = {0};
    for (size_t i = 0; i < nlive; i++)
        for (size_t j = 0; j < sizeof order / sizeof order[0]; j++)
            if (strcmp(part_of(live[i].file), order[j]) == 0)
                sum[j] += live[i].n;
    printf("parts:");
    for (size_t j = 0; j < sizeof order / sizeof order[0]; j++)
        printf(" %s=%zu", order[j], sum[j] / o.n);
    printf("\n");
}

static int same_site(const struct alloc *a, const struct alloc *b)
{
    return a->line == b->line && a->phase == b->phase && a->file && b->file &&
           strcmp(a->file, b->file) == 0;
}

/* Sums what is alive per source line and phase and prints the sites, largest
 * first (a selection sort: the list is short).  Consumes live[]. */
static void report_sites(void)
{
    size_t n = 0;
    for (size_t i = 0; i < nlive; i++) { /* merge each site into its first entry */
        size_t j = 0;
        while (j < n && !same_site(&live[j], &live[i]))
            j++;
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
        if (live[i].n / o.n < (o.all ? 1 : 64))
            break;
        printf("%6zu B %5.1f allocs  %-10s %-5s %s:%d\n", live[i].n / o.n,
               (double)(size_t)live[i].p / (double)o.n, part_of(live[i].file), live[i].phase,
               live[i].file ? live[i].file : "?", live[i].line);
    }
}

static int usage(void)
{
    fprintf(stderr, "usage: tls_heap [-n N] [-v 1.2|1.3] [-k ec|rsa] [-c aes128|aes256|chacha] "
                    "[-l LEVER]... [-a]  (see bench/tls_heap.c)\n");
    return 1;
}

static int parse(int argc, char **argv)
{
    int ch;
    while ((ch = getopt(argc, argv, "n:v:k:c:l:a")) != -1) {
        switch (ch) {
        case 'n': o.n = strtoul(optarg, NULL, 10); break;
        case 'v': o.tls12 = strcmp(optarg, "1.2") == 0; break;
        case 'k': o.rsa = strcmp(optarg, "rsa") == 0; break;
        case 'c': o.cipher = optarg; break;
        case 'a': o.all = 1; break;
        case 'l':
            if (o.nlever == sizeof o.lever / sizeof o.lever[0])
                return usage();
            o.lever[o.nlever++] = optarg;
            break;
        default: return usage();
        }
    }
    if (optind != argc || o.n < 1 || o.n > MAX_CONNS)
        return usage();
    return 0;
}

int main(int argc, char **argv)
{
    if (parse(argc, argv))
        return 1;
    if (!CRYPTO_set_mem_functions(h_malloc, h_realloc, h_free)) {
        fprintf(stderr, "tls_heap: OpenSSL's allocator is already in use\n");
        return 1;
    }
    SSL_CTX *sctx = server_ctx(), *cctx = client_ctx();
    static struct pw_tls s[MAX_CONNS];
    if (!sctx || !cctx || one_conn(&s[0], sctx, cctx)) {
        fprintf(stderr, "tls_heap: setup failed (a cipher the version cannot use?)\n");
        return 1;
    }
    pw_tls_free(&s[0]); /* a warm-up: OpenSSL's one-time tables are not a connection's */
    tracking = 1;
    for (size_t i = 0; i < o.n; i++)
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
    printf("heap_per_conn=%zu allocs_per_conn=%zu version=%s cipher=%s\n", total / o.n,
           nlive / o.n, SSL_get_version(s[0].ssl), SSL_get_cipher_name(s[0].ssl));
    report_parts();
    report_sites();
    for (size_t i = 0; i < o.n; i++)
        pw_tls_free(&s[i]);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return 0;
}
