/* test_jwt.c — JSON Web Tokens (jwt.h): tokens made here with OpenSSL
 * (HS256, RS256, ES256), then the attack table — alg none, HS256 against a
 * public key, bad signatures, expired and early tokens, audiences, critical
 * headers, malformed parts — and the pushwire claim's channel lists. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "proto/base64.h"
#include "proto/jwt.h"
#include "tap.h"

#define NOW 1700000000.0
static const char SECRET[] = "0123456789abcdef0123456789abcdef"; /* 32 bytes */

static EVP_PKEY *RSAKEY, *ECKEY;
static char RSA_PEM[4096], EC_PEM[1024];

static void pem_of(EVP_PKEY *k, char *out, size_t n)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, k);
    int len = BIO_read(b, out, (int)n - 1);
    out[len > 0 ? len : 0] = 0;
    BIO_free(b);
}

/* Signs in[0..n) the way `alg` says with the test keys; appends base64url. */
static void sign(const char *alg, const char *in, size_t n, struct pw_buf *out)
{
    uint8_t sig[1024];
    size_t slen = sizeof sig;
    if (strcmp(alg, "HS256") == 0) {
        unsigned l = 0;
        HMAC(EVP_sha256(), SECRET, 32, (const uint8_t *)in, n, sig, &l);
        slen = l;
    } else if (strcmp(alg, "HS256-with-rsa-pem") == 0) {
        unsigned l = 0; /* the classic confusion: the public key as the HMAC secret */
        HMAC(EVP_sha256(), RSA_PEM, (int)strlen(RSA_PEM), (const uint8_t *)in, n, sig, &l);
        slen = l;
    } else if (strcmp(alg, "none") == 0) {
        slen = 0;
    } else {
        EVP_PKEY *k = strcmp(alg, "RS256") == 0 ? RSAKEY : ECKEY;
        EVP_MD_CTX *c = EVP_MD_CTX_new();
        EVP_DigestSignInit(c, NULL, EVP_sha256(), NULL, k);
        EVP_DigestSign(c, sig, &slen, (const uint8_t *)in, n);
        EVP_MD_CTX_free(c);
        if (k == ECKEY) { /* DER to r || s */
            const uint8_t *p = sig;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
            memset(sig, 0, 64);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32);
            ECDSA_SIG_free(es);
            slen = 64;
        }
    }
    pw_base64url_append(out, sig, slen);
}

/* A token: header and payload JSON as given, signed with `alg`'s test key. */
static char *mk(const char *alg, const char *header, const char *payload)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    pw_base64url_append(&b, header, strlen(header));
    pw_buf_putc(&b, '.');
    pw_base64url_append(&b, payload, strlen(payload));
    size_t signed_len = b.len;
    pw_buf_putc(&b, '.');
    sign(alg, (const char *)b.p, signed_len, &b);
    pw_buf_putc(&b, 0);
    return (char *)b.p;
}

static struct pw_jwt_key *HS, *RS, *ES;

static int verify(struct pw_jwt_key *k, const char *tok, const char *aud, struct pw_jwt *j)
{
    return pw_jwt_verify(k, tok, strlen(tok), NOW, aud, j);
}

/* rc of verifying a token made with alg/header/payload against key k */
static int try(struct pw_jwt_key *k, const char *alg, const char *header, const char *payload, const char *aud)
{
    char *t = mk(alg, header, payload);
    struct pw_jwt j;
    int rc = verify(k, t, aud, &j);
    pw_jwt_free(&j);
    free(t);
    return rc;
}

#define HS_HDR "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define CLAIMS "{\"pushwire\":{\"subscribe\":[\"news.*\",\"chat.42\"],\"publish\":[\"chat.42\"]}}"

static void test_keys(void)
{
    char why[200];
    struct pw_jwt_key *k;
    OK(pw_jwt_key_new(SECRET, 32, &HS, why, sizeof why) == 0 && pw_jwt_key_alg(HS) == PW_JWT_HS256,
       "key: 32 bytes are an HS256 secret");
    OK(pw_jwt_key_new(RSA_PEM, strlen(RSA_PEM), &RS, why, sizeof why) == 0 && pw_jwt_key_alg(RS) == PW_JWT_RS256,
       "key: an RSA public key in PEM is RS256");
    OK(pw_jwt_key_new(EC_PEM, strlen(EC_PEM), &ES, why, sizeof why) == 0 && pw_jwt_key_alg(ES) == PW_JWT_ES256,
       "key: a P-256 public key in PEM is ES256");
    IS(pw_jwt_key_new(SECRET, 31, &k, why, sizeof why), PW_EJWT_KEY, "key: a 31-byte secret is refused");
    OK(strstr(why, "32 bytes") != NULL, "key: ... saying why (%s)", why);
    /* a private key, a small RSA key, another curve */
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, ECKEY, NULL, NULL, 0, NULL, NULL);
    char priv[2048];
    int n = BIO_read(b, priv, sizeof priv - 1);
    BIO_free(b);
    IS(pw_jwt_key_new(priv, (size_t)n, &k, why, sizeof why), PW_EJWT_KEY, "key: a private key is refused");
    OK(strstr(why, "pubout") != NULL, "key: ... with the command that makes the public key (%s)", why);
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    char pem[2048];
    pem_of(small, pem, sizeof pem);
    IS(pw_jwt_key_new(pem, strlen(pem), &k, why, sizeof why), PW_EJWT_KEY, "key: RSA 1024 is refused");
    EVP_PKEY_free(small);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp384r1");
    pem_of(p384, pem, sizeof pem);
    IS(pw_jwt_key_new(pem, strlen(pem), &k, why, sizeof why), PW_EJWT_KEY, "key: a P-384 key is refused (ES256 is P-256)");
    EVP_PKEY_free(p384);
    static const char broken[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    IS(pw_jwt_key_new(broken, sizeof broken - 1, &k, why, sizeof why), PW_EJWT_KEY,
       "key: a broken PEM is refused, never taken as an HMAC secret");
}

static void test_valid(void)
{
    struct pw_jwt j;
    char *t = mk("HS256", HS_HDR, "{\"exp\":1700000100,\"nbf\":1699999000," "\"pushwire\":{\"subscribe\":[\"news.*\"],\"publish\":[\"chat.42\"]}}");
    OK(verify(HS, t, NULL, &j) == 0, "HS256: a valid token");
    OK(j.has_exp && j.exp == 1700000100 && j.has_nbf, "HS256: exp and nbf are read");
    OK(pw_jwt_allows(&j, PW_JWT_SUBSCRIBE, "news.a", 6), "claim: subscribe news.* allows news.a");
    OK(!pw_jwt_allows(&j, PW_JWT_SUBSCRIBE, "chat.42", 7), "claim: publish does not imply subscribe");
    OK(pw_jwt_allows(&j, PW_JWT_PUBLISH, "chat.42", 7), "claim: publish chat.42 allows it");
    OK(!pw_jwt_allows(&j, PW_JWT_PUBLISH, "news.a", 6), "claim: subscribe does not imply publish");
    OK(!pw_jwt_allows(&j, PW_JWT_SUBSCRIBE, "other", 5), "claim: another channel is not allowed");
    pw_jwt_free(&j);
    free(t);
    IS(try(RS, "RS256", "{\"alg\":\"RS256\"}", CLAIMS, NULL), 0, "RS256: a valid token");
    IS(try(ES, "ES256", "{\"alg\":\"ES256\",\"typ\":\"jwt\"}", CLAIMS, NULL), 0, "ES256: a valid token (typ in any case)");
    t = mk("HS256", HS_HDR, "{}");
    OK(verify(HS, t, NULL, &j) == 0 && !j.has_exp && !pw_jwt_allows(&j, PW_JWT_SUBSCRIBE, "a", 1),
       "claim: a token without the pushwire claim verifies and allows nothing");
    pw_jwt_free(&j);
    free(t);
    IS(try(HS, "HS256", HS_HDR, "{\"pushwire\":{}}", NULL), 0, "claim: an empty pushwire claim");
    IS(try(HS, "HS256", "{\"alg\":\"HS256\",\"kid\":\"x\",\"jku\":\"http://evil/\"}", CLAIMS, NULL), 0,
       "header: kid and jku are ignored (never fetched)");
}

static void test_attacks(void)
{
    IS(try(HS, "none", "{\"alg\":\"none\"}", CLAIMS, NULL), PW_EJWT_ALG, "attack: alg none");
    IS(try(HS, "none", "{\"alg\":\"NONE\"}", CLAIMS, NULL), PW_EJWT_ALG, "attack: alg NONE");
    IS(try(RS, "HS256-with-rsa-pem", HS_HDR, CLAIMS, NULL), PW_EJWT_ALG,
       "attack: HS256 signed with the RSA public key as the secret, against the RSA key");
    IS(try(HS, "RS256", "{\"alg\":\"RS256\"}", CLAIMS, NULL), PW_EJWT_ALG, "attack: RS256 against an HS256 key");
    IS(try(ES, "RS256", "{\"alg\":\"RS256\"}", CLAIMS, NULL), PW_EJWT_ALG, "attack: RS256 against an ES256 key");
    IS(try(HS, "HS256", "{\"alg\":\"hs256\"}", CLAIMS, NULL), PW_EJWT_ALG, "attack: alg compared exactly");
    IS(try(HS, "HS256", "{\"typ\":\"JWT\"}", CLAIMS, NULL), PW_EJWT_HEADER, "attack: no alg");
    IS(try(HS, "HS256", "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}", CLAIMS, NULL), PW_EJWT_CRIT,
       "attack: crit is refused");
    IS(try(HS, "HS256", "{\"alg\":\"HS256\",\"typ\":\"JOSE+JSON\"}", CLAIMS, NULL), PW_EJWT_TYP, "header: typ other than JWT");
    /* a bad signature: another secret, and one flipped bit */
    char *t = mk("HS256", HS_HDR, CLAIMS);
    size_t n = strlen(t);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    struct pw_jwt j;
    IS(verify(HS, t, NULL, &j), PW_EJWT_SIG, "attack: a changed HS256 signature");
    free(t);
    t = mk("RS256", "{\"alg\":\"RS256\"}", CLAIMS);
    char *dot = strchr(t, '.');
    dot[1] = dot[1] == 'e' ? 'f' : 'e'; /* the payload, not the signature */
    IS(verify(RS, t, NULL, &j), PW_EJWT_SIG, "attack: an RS256 token with a changed payload");
    free(t);
    t = mk("ES256", "{\"alg\":\"ES256\"}", CLAIMS);
    n = strlen(t);
    t[n - 3] = t[n - 3] == 'Q' ? 'R' : 'Q';
    IS(verify(ES, t, NULL, &j), PW_EJWT_SIG, "attack: a changed ES256 signature");
    free(t);
    /* an ES256 signature in DER (what OpenSSL gives, not JOSE's r || s) */
    t = mk("HS256", "{\"alg\":\"ES256\"}", CLAIMS);
    IS(verify(ES, t, NULL, &j), PW_EJWT_SIG, "attack: an ES256 signature of the wrong length");
    free(t);
}

static void test_times(void)
{
    char p[200];
    snprintf(p, sizeof p, "{\"exp\":%.0f,\"pushwire\":{}}", NOW - 1);
    IS(try(HS, "HS256", HS_HDR, p, NULL), PW_EJWT_EXPIRED, "exp: a second ago is expired");
    snprintf(p, sizeof p, "{\"exp\":%.0f}", NOW);
    IS(try(HS, "HS256", HS_HDR, p, NULL), PW_EJWT_EXPIRED, "exp: now is expired (on or after)");
    snprintf(p, sizeof p, "{\"exp\":%.1f}", NOW + 0.5);
    IS(try(HS, "HS256", HS_HDR, p, NULL), 0, "exp: half a second from now is valid (a NumericDate may have a fraction)");
    snprintf(p, sizeof p, "{\"nbf\":%.0f}", NOW + 60);
    IS(try(HS, "HS256", HS_HDR, p, NULL), PW_EJWT_NBF, "nbf: in a minute is not valid yet");
    snprintf(p, sizeof p, "{\"nbf\":%.0f}", NOW);
    IS(try(HS, "HS256", HS_HDR, p, NULL), 0, "nbf: now is valid");
    IS(try(HS, "HS256", HS_HDR, "{\"exp\":\"tomorrow\"}", NULL), PW_EJWT_CLAIMS, "exp: a string is malformed");
    IS(try(HS, "HS256", HS_HDR, "{\"nbf\":null}", NULL), PW_EJWT_CLAIMS, "nbf: null is malformed");
}

static void test_aud(void)
{
    IS(try(HS, "HS256", HS_HDR, "{\"aud\":\"push\"}", "push"), 0, "aud: the string named");
    IS(try(HS, "HS256", HS_HDR, "{\"aud\":[\"x\",\"push\"]}", "push"), 0, "aud: in a list");
    IS(try(HS, "HS256", HS_HDR, "{\"aud\":\"other\"}", "push"), PW_EJWT_AUD, "aud: another audience");
    IS(try(HS, "HS256", HS_HDR, "{\"aud\":\"pushx\"}", "push"), PW_EJWT_AUD, "aud: compared exactly");
    IS(try(HS, "HS256", HS_HDR, "{}", "push"), PW_EJWT_AUD, "aud: missing when one is required");
    IS(try(HS, "HS256", HS_HDR, "{\"aud\":\"push\"}", NULL), PW_EJWT_AUD,
       "aud: a token with an audience when none is named (RFC 7519 §4.1.3)");
    IS(try(HS, "HS256", HS_HDR, "{\"aud\":[1]}", "push"), PW_EJWT_CLAIMS, "aud: a number in the list is malformed");
}

static void test_malformed(void)
{
    struct pw_jwt j;
#define BAD(tok, want, what) IS(verify(HS, (tok), NULL, &j), (want), "malformed: " what)
    BAD("", PW_EJWT_FORMAT, "empty");
    BAD("abc", PW_EJWT_FORMAT, "one part");
    BAD("a.b", PW_EJWT_FORMAT, "two parts");
    BAD("a.b.c.d", PW_EJWT_FORMAT, "four parts");
    BAD(".b.c", PW_EJWT_FORMAT, "empty header");
    BAD("a..c", PW_EJWT_FORMAT, "empty payload");
    BAD("e30=.e30.", PW_EJWT_HEADER, "padded base64url");
    BAD("W10.e30.", PW_EJWT_HEADER, "a header that is an array");
    BAD("bm90IGpzb24.e30.", PW_EJWT_HEADER, "a header that is not JSON");
    char *t = mk("HS256", HS_HDR, "[1]");
    BAD(t, PW_EJWT_CLAIMS, "a payload that is an array");
    free(t);
    t = mk("HS256", HS_HDR, "{\"pushwire\":{\"subscribe\":\"news.*\"}}");
    BAD(t, PW_EJWT_CLAIMS, "a subscribe list that is a string");
    free(t);
    t = mk("HS256", HS_HDR, "{\"pushwire\":{\"publish\":[1]}}");
    BAD(t, PW_EJWT_CLAIMS, "a number among the globs");
    free(t);
    t = mk("HS256", HS_HDR, "{\"pushwire\":[\"*\"]}");
    BAD(t, PW_EJWT_CLAIMS, "a pushwire claim that is not an object");
    free(t);
    char *big = malloc(PW_JWT_MAX + 2);
    memset(big, 'a', PW_JWT_MAX + 1);
    big[PW_JWT_MAX + 1] = 0;
    big[10] = big[20] = '.';
    BAD(big, PW_EJWT_TOOBIG, "a token over the limit is refused before it is looked at");
    free(big);
#undef BAD
}

int main(void)
{
    RSAKEY = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    ECKEY = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    pem_of(RSAKEY, RSA_PEM, sizeof RSA_PEM);
    pem_of(ECKEY, EC_PEM, sizeof EC_PEM);
    test_keys();
    test_valid();
    test_attacks();
    test_times();
    test_aud();
    test_malformed();
    pw_jwt_key_free(HS);
    pw_jwt_key_free(RS);
    pw_jwt_key_free(ES);
    EVP_PKEY_free(RSAKEY);
    EVP_PKEY_free(ECKEY);
    return tap_done();
}
