/* jwt.h — JSON Web Tokens (RFC 7519) in compact JWS form (RFC 7515 §7.1),
 * verified with OpenSSL: HS256, RS256 or ES256 (RFC 7518 §3), one key,
 * one algorithm.  Nothing here does cryptography by hand: HMAC, RSA and
 * ECDSA are OpenSSL's; this module parses, picks nothing from the token
 * that the key did not already decide, and checks claims.
 *
 * The rules (RFC 8725, JWT best current practice):
 *  - the algorithm is the key's: "alg" must name exactly it.  "none" is
 *    never accepted, and neither is HS256 with a public key as the HMAC
 *    secret (the classic confusion): a PEM key is a public key and nothing
 *    else, and any other file is an HMAC secret and nothing else;
 *  - "crit" is refused (no extension is understood), "typ" must be "JWT"
 *    when present; "jku", "jwk", "x5u", "kid" … are ignored, never fetched;
 *  - the signature is checked before the claims are parsed;
 *  - "exp" (RFC 7519 §4.1.4) and "nbf" (§4.1.5) are NumericDates (numbers),
 *    checked against the caller's clock with no leeway: now >= exp is
 *    expired, now < nbf is not valid yet;
 *  - "aud" (§4.1.3): when the caller names an audience the token must list
 *    it; a token that has an "aud" when the caller names none is refused, as
 *    §4.1.3 says;
 *  - pushwire's claim: "pushwire": {"subscribe": [GLOB…], "publish":
 *    [GLOB…]} (globs as auth.h's pw_glob_match); either list may be left
 *    out (nothing allowed), anything else there is refused.  A token
 *    without the claim allows nothing.
 * Limits: a token of at most PW_JWT_MAX bytes; its JSON parts are parsed
 * with small limits (depth 8, 1000 values).  Error codes -1000..-1049.
 */
#ifndef PW_JWT_H
#define PW_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "pw_err.h"

#define PW_JWT_ERRORS(X)                                                       \
    X(JWT_FORMAT, -1000, "RFC 7515 §7.1", "not a JWT (three base64url parts: header.payload.signature)") \
    X(JWT_TOOBIG, -1001, NULL, "token longer than the limit")                   \
    X(JWT_HEADER, -1002, "RFC 7515 §4.1", "malformed JWT header")                \
    X(JWT_ALG, -1003, "RFC 8725 §3.1", "the token's alg is not the key's algorithm") \
    X(JWT_CRIT, -1004, "RFC 7515 §4.1.11", "the token has critical extensions") \
    X(JWT_SIG, -1005, "RFC 7515 §5.2", "bad signature")                         \
    X(JWT_CLAIMS, -1006, "RFC 7519 §4", "malformed JWT claims")                 \
    X(JWT_EXPIRED, -1007, "RFC 7519 §4.1.4", "token expired")                  \
    X(JWT_NBF, -1008, "RFC 7519 §4.1.5", "token not valid yet")                \
    X(JWT_AUD, -1009, "RFC 7519 §4.1.3", "token for another audience")         \
    X(JWT_KEY, -1010, NULL, "unusable key: want an HS256 secret of at least 32 bytes, or an RSA (2048 bits or more) or P-256 public key in PEM") \
    X(JWT_TYP, -1011, "RFC 7519 §5.1", "the token's typ is not JWT")

enum { PW_JWT_ERRORS(PW_ERR_ENUM) };

#define PW_JWT_MAX 8192            /* bytes of token */
#define PW_JWT_SECRET_MIN 32       /* RFC 7518 §3.2: a key as long as the hash */
#define PW_JWT_RSA_MIN_BITS 2048   /* RFC 7518 §3.3 */

enum pw_jwt_alg { PW_JWT_HS256 = 1, PW_JWT_RS256, PW_JWT_ES256 };

struct pw_jwt_key; /* opaque */

/* A key from a file's bytes: a PEM public key ("-----BEGIN PUBLIC
 * KEY-----", SubjectPublicKeyInfo) for RS256 or ES256 (which one follows
 * from the key), any other bytes an HS256 secret used as they are.  0 and *out (free with
 * pw_jwt_key_free), or PW_EJWT_KEY with why[] saying what is wrong (a
 * private key, a certificate, a short secret, another curve). */
int pw_jwt_key_new(const void *p, size_t n, struct pw_jwt_key **out, char *why, size_t whysz);
void pw_jwt_key_free(struct pw_jwt_key *k);
enum pw_jwt_alg pw_jwt_key_alg(const struct pw_jwt_key *k);
const char *pw_jwt_alg_name(enum pw_jwt_alg a); /* "HS256" … */
/* The key's identity, whatever its file looked like (PEM line breaks, a
 * trailing newline): SHA-256 over the algorithm's name and the HS256 secret
 * or the public key's DER (SubjectPublicKeyInfo).  0, or PW_ENOMEM. */
int pw_jwt_key_id(const struct pw_jwt_key *k, uint8_t out[32]);

/* A verified token's claims. */
struct pw_jwt {
    double exp, nbf;          /* NumericDates; meaningful when has_* */
    uint8_t has_exp, has_nbf;
    /* private: */
    struct pw_json *root;
    const struct pw_json *lists[2]; /* subscribe, publish (arrays) or NULL */
};

/* Verifies tok[0..n) with k at `now` (seconds since the epoch) for audience
 * aud (NULL: none named).  0 with *out filled (release with pw_jwt_free),
 * or a PW_EJWT_* code (PW_ENOMEM) and *out empty (pw_jwt_free is harmless). */
int pw_jwt_verify(const struct pw_jwt_key *k, const char *tok, size_t n, double now, const char *aud,
                  struct pw_jwt *out);
void pw_jwt_free(struct pw_jwt *j);

enum pw_jwt_act { PW_JWT_SUBSCRIBE = 0, PW_JWT_PUBLISH = 1 };
/* 1 if the token's pushwire claim lets it do `act` on channel ch. */
int pw_jwt_allows(const struct pw_jwt *j, enum pw_jwt_act act, const char *ch, size_t chlen);

#endif
