/* json.h — a small JSON writer and a small strict JSON reader (RFC 8259).
 *
 * Writer: appends to a struct pw_buf.  Every function returns 0, or
 * PW_ETOOBIG / PW_ENOMEM from the buffer; on failure the buffer is left as it
 * was before the call (no half-written value).
 *
 * Strings are written as UTF-8.  ", \ and control characters are escaped
 * (\b \f \n \r \t, others as \u00XX, DEL as \u007f).  Bytes that are not valid
 * UTF-8 are replaced, one U+FFFD per maximal ill-formed subsequence (the
 * WHATWG/Unicode "maximal subpart" rule, as a browser decodes them), so the
 * output is always valid JSON in valid UTF-8.  Binary data that must survive
 * exactly goes through pw_json_b64 instead.
 *
 * Commas are kept simple: pw_json_sep() writes a ',' unless the buffer is
 * empty or its last byte is one of  { [ , :  — so call it (or pw_json_key,
 * which calls it) before every member or array element:
 *
 *     pw_json_begin(b, '{');
 *     pw_json_kstr(b, "channel", ch, chlen);   // "channel":"..."
 *     pw_json_kint(b, "id", 7);                // ,"id":7
 *     pw_json_key(b, "tags"); pw_json_begin(b, '[');
 *     pw_json_sep(b); pw_json_cstr(b, "a");
 *     pw_json_sep(b); pw_json_cstr(b, "b");
 *     pw_json_end(b, ']');
 *     pw_json_end(b, '}');                      // {"channel":"...","id":7,"tags":["a","b"]}
 *
 * Reader: pw_json_parse() checks the whole text against the RFC 8259 grammar
 * with limits (size, nesting depth, number of values) and builds a read-only
 * tree in ONE allocation owned by the caller: free it with pw_json_free(root).
 * Strings in the tree are decoded (escapes resolved), NUL-terminated, and may
 * contain NUL bytes (use the length).  Invalid UTF-8, lone surrogate escapes,
 * raw control characters in strings, leading zeros, trailing commas, comments
 * and anything after the top-level value are errors.  With duplicate object
 * keys, lookups return the first.  Accessors are NULL-safe so that lookups
 * chain: pw_json_get(pw_json_get(root, "a"), "b") is NULL if "a" is missing.
 */
#ifndef PW_JSON_H
#define PW_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pw_err.h"

#define PW_JSON_ERRORS(X)                                                      \
    X(JSON_SYNTAX, -700, "RFC 8259 §2", "unexpected character in JSON text")  \
    X(JSON_EOF, -701, "RFC 8259 §2", "JSON text ends too early")              \
    X(JSON_TRAILING, -702, "RFC 8259 §2", "data after the JSON value")        \
    X(JSON_NUMBER, -703, "RFC 8259 §6", "malformed number")                   \
    X(JSON_STRING, -704, "RFC 8259 §7", "unescaped control character in string") \
    X(JSON_ESCAPE, -705, "RFC 8259 §7", "invalid escape or lone surrogate in string") \
    X(JSON_UTF8, -706, "RFC 8259 §8.1", "JSON text is not valid UTF-8")       \
    X(JSON_TOOBIG, -707, "RFC 8259 §9 (limit)", "JSON text larger than the limit") \
    X(JSON_DEPTH, -708, "RFC 8259 §9 (limit)", "JSON nesting deeper than the limit") \
    X(JSON_VALUES, -709, "RFC 8259 §9 (limit)", "more JSON values than the limit") \
    X(JSON_TYPE, -710, NULL, "JSON value missing or of another type")         \
    X(JSON_RANGE, -711, NULL, "JSON number is not an integer in range")
/* -712 is PW_EBASE64 (base64.h) */

enum { PW_JSON_ERRORS(PW_ERR_ENUM) };

/* ---- writer ---- */

/* A quoted, escaped string from n bytes (see above for invalid UTF-8). */
int pw_json_str(struct pw_buf *b, const void *s, size_t n);
int pw_json_cstr(struct pw_buf *b, const char *s); /* NULL writes null */
/* A quoted standard base64 string (RFC 4648 §4, padded; base64.h). */
int pw_json_b64(struct pw_buf *b, const void *p, size_t n);
int pw_json_int(struct pw_buf *b, long long v);
/* A double in the shortest text that reads back as the same value (integral
 * values without a fraction); NaN/inf are written as null. */
int pw_json_num(struct pw_buf *b, double v);
int pw_json_bool(struct pw_buf *b, int v);
int pw_json_null(struct pw_buf *b);
int pw_json_sep(struct pw_buf *b);                 /* ',' when needed */
int pw_json_begin(struct pw_buf *b, char open);    /* '{' or '[' */
int pw_json_end(struct pw_buf *b, char close);     /* '}' or ']' */
int pw_json_key(struct pw_buf *b, const char *key);  /* [,]"key": */
/* Members in one call: [,]"key":value */
int pw_json_kstr(struct pw_buf *b, const char *key, const void *s, size_t n);
int pw_json_kcstr(struct pw_buf *b, const char *key, const char *s);
int pw_json_kint(struct pw_buf *b, const char *key, long long v);
int pw_json_kbool(struct pw_buf *b, const char *key, int v);

/* ---- reader ---- */

enum pw_json_type {
    PW_JSON_NONE = 0, /* what pw_json_type(NULL) says: value missing */
    PW_JSON_NULL,
    PW_JSON_BOOL,
    PW_JSON_NUMBER,
    PW_JSON_STRING,
    PW_JSON_ARRAY,
    PW_JSON_OBJECT,
};

/* 0 in a field means its default; lim NULL means all defaults. */
struct pw_json_limits {
    size_t max_size;   /* bytes of text (default 1 MiB) */
    size_t max_depth;  /* nested arrays/objects (default 64, at most 1000:
                          the reader recurses) */
    size_t max_values; /* values in the whole text, members and elements
                          included (default 100000): bounds the tree's memory */
};
#define PW_JSON_LIMITS_DEFAULT { 1u << 20, 64, 100000 }

/* One node.  Fields are private: use the accessors. */
struct pw_json {
    uint8_t type;
    uint8_t isint;  /* number written or representable as an int64 */
    const char *key; /* member name (decoded, NUL-terminated) or NULL */
    size_t key_len;
    size_t len;      /* string bytes, or number of children */
    union {
        double num;
        const char *str;
        struct pw_json *kids;
        int boolean;
    } u;
    int64_t i;
};

/* Parses text[0..len).  On success returns 0 and *root (free with
 * pw_json_free).  On failure returns a PW_EJSON_* code (or PW_ENOMEM), *root
 * is NULL and *err_at (if not NULL) is the byte offset where the text went
 * wrong.  lim NULL means the defaults. */
int pw_json_parse(const void *text, size_t len, const struct pw_json_limits *lim,
                  struct pw_json **root, size_t *err_at);
void pw_json_free(struct pw_json *root);

enum pw_json_type pw_json_type(const struct pw_json *v);
/* Object member by key (first match), or NULL. */
const struct pw_json *pw_json_get(const struct pw_json *obj, const char *key);
/* Element (array) or member (object) number i, or NULL. */
const struct pw_json *pw_json_at(const struct pw_json *v, size_t i);
/* Elements/members of an array/object, bytes of a string, else 0. */
size_t pw_json_len(const struct pw_json *v);
/* The member name of a value got from an object, or NULL. */
const char *pw_json_name(const struct pw_json *v, size_t *len);
/* String value (decoded, NUL-terminated, may contain NUL) or NULL if v is not
 * a string; *len (if not NULL) gets its length. */
const char *pw_json_string(const struct pw_json *v, size_t *len);
/* Member `key` as a string, or NULL (convenience). */
const char *pw_json_get_str(const struct pw_json *obj, const char *key, size_t *len);
/* 0 or PW_EJSON_TYPE. */
int pw_json_number(const struct pw_json *v, double *out);
/* 0, PW_EJSON_TYPE (not a number) or PW_EJSON_RANGE (fraction, or outside
 * int64).  1e3 and 5.0 are integral. */
int pw_json_int64(const struct pw_json *v, int64_t *out);
int pw_json_boolean(const struct pw_json *v, int *out);
int pw_json_is_null(const struct pw_json *v);

#endif
