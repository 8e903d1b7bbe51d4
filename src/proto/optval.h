/* optval.h — the grammar of the values users type: whole numbers, byte sizes
 * with units, durations and plain decimals, as every applet's options (and
 * anything else that reads a size or a time from a person) accept them.
 * Pure: no I/O, no allocation, nothing kept between calls.
 *
 *   count  DIGITS                                  0 .. 2^64-1
 *   bytes  DIGITS [UNIT]   UNIT in any case: B (bytes); K, KI, KIB, M, MI,
 *                          MIB, G, ..., T... powers of 1024; KB, MB, GB, TB
 *                          powers of 1000 (as dd(1) and truncate(1) read them)
 *   secs   DECIMAL [ms | s | m | h | d]            seconds without a unit
 *   real   DECIMAL
 *   DECIMAL  DIGITS [. [DIGITS]] or . DIGITS, then optionally e or E, an
 *            optional sign and DIGITS.  No sign in front, no spaces, no hex,
 *            no inf or nan.
 *
 * Strings longer than PW_VAL_MAX_LEN are refused before they are looked at.
 */
#ifndef PW_OPTVAL_H
#define PW_OPTVAL_H

#include <stddef.h>
#include <stdint.h>

#include "pw_err.h"

#define PW_VAL_MAX_LEN 64

#define PW_VAL_ERRORS(X)                                                       \
    X(VAL_SYNTAX, -850, NULL, "not in the value's grammar")                    \
    X(VAL_LOW, -851, NULL, "below the smallest value allowed")                 \
    X(VAL_HIGH, -852, NULL, "above the largest value allowed")                 \
    X(VAL_LONG, -853, NULL, "longer than 64 characters")                       \
    X(VAL_WORD, -854, NULL, "not one of the words allowed")

enum { PW_VAL_ERRORS(PW_ERR_ENUM) };

enum pw_valtype { PW_VAL_COUNT, PW_VAL_BYTES, PW_VAL_SECS, PW_VAL_REAL };

/* A parsed value: u for count and bytes, d for secs and real. */
struct pw_val {
    uint64_t u;
    double d;
};

/* Parses s (NUL-terminated) as a value of type t into *out.  0, or
 * PW_EVAL_SYNTAX, PW_EVAL_LONG, or PW_EVAL_HIGH for a count or size that
 * does not fit 64 bits or a decimal that is not finite.  *out is written
 * only on success. */
int pw_val_parse(enum pw_valtype t, const char *s, struct pw_val *out);

/* pw_val_parse, then lo <= value <= hi with the bounds written in the same
 * grammar ("1K", "4G", "1ms", "365d"); a NULL bound is open.  0,
 * PW_EVAL_LOW, PW_EVAL_HIGH or a pw_val_parse error; PW_EINVAL when a
 * bound does not parse (a mistake in the caller's table). */
int pw_val_range(enum pw_valtype t, const char *s, const char *lo, const char *hi,
                 struct pw_val *out);

/* Which of the space-separated `words` s is, exactly (case matters): its
 * index in *idx and 0, or PW_EVAL_WORD (PW_EVAL_LONG past the length
 * limit). */
int pw_val_word(const char *s, const char *words, size_t *idx);

#endif
