/* jwt.c — see jwt.h. */
#include "jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "auth.h"
#include "base64.h"

#define PW_JWT_ES256_SIG 64 /* r and s, 32 bytes each (RFC 7518 §3.4) */

struct pw_jwt_key {
    enum pw_jwt_alg alg;
    EVP_PKEY *pkey;     /* RS256, ES256 */
    uint8_t *secret;    /* HS256 */
    size_t slen;
};

static const struct pw_json_limits pw__jwt_json = {PW_JWT_MAX, 8, 1000};

const char *pw_jwt_alg_name(enum pw_jwt_alg a)
{
    return a == PW_JWT_HS256 ? "HS256" : a == PW_JWT_RS256 ? "RS256" : a == PW_JWT_ES256 ? "ES256" : "?";
}

enum pw_jwt_alg pw_jwt_key_alg(const struct pw_jwt_key *k)
{
    return k->alg;
}

int pw_jwt_key_id(const struct pw_jwt_key *k, uint8_t out[32])
{
    const char *name = pw_jwt_alg_name(k->alg);
    uint8_t *der = NULL;
    const uint8_t *p = k->secret;
    size_t n = k->slen;
    if (k->pkey) {
        int len = i2d_PUBKEY(k->pkey, &der);
        if (len <= 0)
            return PW_ENOMEM;
        p = der;
        n = (size_t)len;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned olen = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
             EVP_DigestUpdate(ctx, name, strlen(name) + 1) == 1 && EVP_DigestUpdate(ctx, p, n) == 1 &&
             EVP_DigestFinal_ex(ctx, out, &olen) == 1 && olen == 32;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok ? 0 : PW_ENOMEM;
}

void pw_jwt_key_free(struct pw_jwt_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    if (k->secret)
        OPENSSL_cleanse(k->secret, k->slen);
    free(k->secret);
    free(k);
}

static int pw__why(char *why, size_t whysz, const char *msg)
{
    if (whysz)
        snprintf(why, whysz, "%s", msg);
    return PW_EJWT_KEY;
}

/* A PEM public key: RS256 for RSA of 2048 bits or more, ES256 for P-256. */
static int pw__key_pem(struct pw_jwt_key *k, const void *p, size_t n, char *why, size_t whysz)
{
    if (memmem(p, n, "PRIVATE KEY-----", 16))
        return pw__why(why, whysz, "a private key: give the public key (openssl pkey -pubout)");
    if (memmem(p, n, "CERTIFICATE-----", 16))
        return pw__why(why, whysz, "a certificate: give its public key (openssl x509 -pubkey -noout)");
    if (n > INT32_MAX)
        return pw__why(why, whysz, "too large");
    BIO *bio = BIO_new_mem_buf(p, (int)n);
    if (!bio)
        return PW_ENOMEM;
    k->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!k->pkey)
        return pw__why(why, whysz, "not a PEM public key (-----BEGIN PUBLIC KEY-----)");
    int id = EVP_PKEY_get_base_id(k->pkey);
    if (id == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(k->pkey) < PW_JWT_RSA_MIN_BITS)
            return pw__why(why, whysz, "an RSA key shorter than 2048 bits (RFC 7518 §3.3)");
        k->alg = PW_JWT_RS256;
        return 0;
    }
    char group[64];
    size_t glen = 0;
    if (id == EVP_PKEY_EC && EVP_PKEY_get_group_name(k->pkey, group, sizeof group, &glen) == 1 &&
        strcmp(group, "prime256v1") == 0) {
        k->alg = PW_JWT_ES256;
        return 0;
    }
    return pw__why(why, whysz, id == EVP_PKEY_EC ? "an EC key on another curve than P-256 (ES256)"
                                                 : "neither an RSA nor a P-256 key");
}

int pw_jwt_key_new(const void *p, size_t n, struct pw_jwt_key **out, char *why, size_t whysz)
{
    *out = NULL;
    if (whysz)
        why[0] = 0;
    struct pw_jwt_key *k = calloc(1, sizeof *k);
    if (!k)
        return PW_ENOMEM;
    int rc;
    if (memmem(p, n, "-----BEGIN", 10)) {
        rc = pw__key_pem(k, p, n, why, whysz);
    } else if (n < PW_JWT_SECRET_MIN) {
        rc = pw__why(why, whysz, "an HS256 secret shorter than 32 bytes (RFC 7518 §3.2)");
    } else if (!(k->secret = malloc(n))) {
        rc = PW_ENOMEM;
    } else {
        memcpy(k->secret, p, n);
        k->slen = n;
        k->alg = PW_JWT_HS256;
        rc = 0;
    }
    if (rc) {
        pw_jwt_key_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

/* ---- verification ---- */

/* ECDSA's raw r || s (JOSE) as the DER OpenSSL verifies; 0 or -1. */
static int pw__es_der(const uint8_t *sig, uint8_t **der, int *dlen)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -1;
    }
    *der = NULL;
    *dlen = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);
    return *dlen > 0 ? 0 : -1;
}

/* 0, or PW_EJWT_SIG. */
static int pw__sig_ok(const struct pw_jwt_key *k, const char *in, size_t n, const uint8_t *sig, size_t slen)
{
    if (k->alg == PW_JWT_HS256) {
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned mlen = 0;
        if (!HMAC(EVP_sha256(), k->secret, (int)k->slen, (const uint8_t *)in, n, mac, &mlen))
            return PW_EJWT_SIG;
        return slen == mlen && CRYPTO_memcmp(mac, sig, mlen) == 0 ? 0 : PW_EJWT_SIG;
    }
    uint8_t *der = NULL;
    int dlen = 0;
    if (k->alg == PW_JWT_ES256) {
        if (slen != PW_JWT_ES256_SIG || pw__es_der(sig, &der, &dlen))
            return PW_EJWT_SIG;
        sig = der;
        slen = (size_t)dlen;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_DigestVerify(ctx, sig, slen, (const uint8_t *)in, n) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    return ok ? 0 : PW_EJWT_SIG;
}

/* One base64url part decoded and parsed as a JSON object: 0 and *root, or
 * `bad`. */
static int pw__part(const char *s, size_t n, struct pw_json **root, int bad)
{
    struct pw_buf b;
    *root = NULL;
    pw_buf_init(&b, PW_JWT_MAX);
    int rc = pw_base64url_decode_append(&b, s, n);
    if (rc == 0)
        rc = pw_json_parse(b.p ? (const char *)b.p : "", b.len, &pw__jwt_json, root, NULL);
    pw_buf_free(&b);
    if (rc == PW_ENOMEM)
        return rc;
    if (rc || pw_json_type(*root) != PW_JSON_OBJECT) {
        pw_json_free(*root);
        *root = NULL;
        return bad;
    }
    return 0;
}

static int pw__header(const struct pw_jwt_key *k, const char *s, size_t n)
{
    struct pw_json *h;
    int rc = pw__part(s, n, &h, PW_EJWT_HEADER);
    if (rc)
        return rc;
    size_t tl;
    const char *alg = pw_json_get_str(h, "alg", NULL);
    const struct pw_json *typ = pw_json_get(h, "typ");
    const char *ts = pw_json_string(typ, &tl);
    if (!alg)
        rc = PW_EJWT_HEADER;
    else if (strcmp(alg, pw_jwt_alg_name(k->alg)) != 0)
        rc = PW_EJWT_ALG;
    else if (pw_json_get(h, "crit"))
        rc = PW_EJWT_CRIT;
    else if (typ && !(ts && tl == 3 && strcasecmp(ts, "JWT") == 0))
        rc = PW_EJWT_TYP;
    pw_json_free(h);
    return rc;
}

static int pw__signature(const struct pw_jwt_key *k, const char *tok, size_t signed_len, const char *s,
                         size_t n)
{
    struct pw_buf sig;
    pw_buf_init(&sig, 1024);
    int rc = pw_base64url_decode_append(&sig, s, n);
    if (rc == 0)
        rc = pw__sig_ok(k, tok, signed_len, sig.p, sig.len);
    else if (rc != PW_ENOMEM)
        rc = PW_EJWT_SIG;
    pw_buf_free(&sig);
    return rc;
}

/* "aud": a string or an array of strings (RFC 7519 §4.1.3). */
static int pw__aud(const struct pw_json *v, const char *want)
{
    if (!v)
        return want ? PW_EJWT_AUD : 0;
    size_t n = pw_json_type(v) == PW_JSON_ARRAY ? pw_json_len(v) : 1;
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        const struct pw_json *e = pw_json_type(v) == PW_JSON_ARRAY ? pw_json_at(v, i) : v;
        size_t len;
        const char *s = pw_json_string(e, &len);
        if (!s)
            return PW_EJWT_CLAIMS;
        found |= want && strlen(want) == len && memcmp(s, want, len) == 0;
    }
    return found ? 0 : PW_EJWT_AUD;
}

/* An optional list of strings; 0 or PW_EJWT_CLAIMS. */
static int pw__list(const struct pw_json *claim, const char *name, const struct pw_json **out)
{
    const struct pw_json *v = pw_json_get(claim, name);
    *out = v;
    if (!v)
        return 0;
    if (pw_json_type(v) != PW_JSON_ARRAY)
        return PW_EJWT_CLAIMS;
    for (size_t i = 0; i < pw_json_len(v); i++)
        if (pw_json_type(pw_json_at(v, i)) != PW_JSON_STRING)
            return PW_EJWT_CLAIMS;
    return 0;
}

static int pw__time(const struct pw_json *v, double *out, uint8_t *has)
{
    if (!v)
        return 0;
    *has = 1;
    return pw_json_number(v, out) ? PW_EJWT_CLAIMS : 0;
}

static int pw__claims(struct pw_jwt *j, double now, const char *aud)
{
    const struct pw_json *r = j->root;
    int rc = pw__time(pw_json_get(r, "exp"), &j->exp, &j->has_exp);
    rc = rc ? rc : pw__time(pw_json_get(r, "nbf"), &j->nbf, &j->has_nbf);
    const struct pw_json *pw = pw_json_get(r, "pushwire");
    if (!rc && pw && pw_json_type(pw) != PW_JSON_OBJECT)
        rc = PW_EJWT_CLAIMS;
    rc = rc ? rc : pw__list(pw, "subscribe", &j->lists[PW_JWT_SUBSCRIBE]);
    rc = rc ? rc : pw__list(pw, "publish", &j->lists[PW_JWT_PUBLISH]);
    rc = rc ? rc : pw__aud(pw_json_get(r, "aud"), aud);
    if (rc)
        return rc;
    if (j->has_exp && now >= j->exp)
        return PW_EJWT_EXPIRED;
    if (j->has_nbf && now < j->nbf)
        return PW_EJWT_NBF;
    return 0;
}

int pw_jwt_verify(const struct pw_jwt_key *k, const char *tok, size_t n, double now, const char *aud,
                  struct pw_jwt *out)
{
    memset(out, 0, sizeof *out);
    if (n > PW_JWT_MAX)
        return PW_EJWT_TOOBIG;
    const char *d1 = memchr(tok, '.', n);
    const char *d2 = d1 ? memchr(d1 + 1, '.', n - (size_t)(d1 + 1 - tok)) : NULL;
    if (!d2 || memchr(d2 + 1, '.', n - (size_t)(d2 + 1 - tok)) || d1 == tok || d2 == d1 + 1)
        return PW_EJWT_FORMAT;
    int rc = pw__header(k, tok, (size_t)(d1 - tok));
    rc = rc ? rc : pw__signature(k, tok, (size_t)(d2 - tok), d2 + 1, n - (size_t)(d2 + 1 - tok));
    rc = rc ? rc : pw__part(d1 + 1, (size_t)(d2 - d1 - 1), &out->root, PW_EJWT_CLAIMS);
    rc = rc ? rc : pw__claims(out, now, aud);
    if (rc)
        pw_jwt_free(out);
    return rc;
}

void pw_jwt_free(struct pw_jwt *j)
{
    pw_json_free(j->root);
    memset(j, 0, sizeof *j);
}

int pw_jwt_allows(const struct pw_jwt *j, enum pw_jwt_act act, const char *ch, size_t chlen)
{
    const struct pw_json *l = j->lists[act == PW_JWT_PUBLISH];
    for (size_t i = 0; i < pw_json_len(l); i++) {
        size_t plen;
        const char *p = pw_json_string(pw_json_at(l, i), &plen);
        if (p && pw_glob_match(p, plen, ch, chlen))
            return 1;
    }
    return 0;
}
