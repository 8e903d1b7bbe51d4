/* pw_err.h — one error space for the whole core.
 *
 * Every function in src/ that can fail returns a negative PW_E* code (or a
 * pointer/NULL and a code through an out-parameter).  Codes are grouped by
 * module, each module owning a range and declaring its list as an X-macro in
 * its own header:
 *
 *      -1 ..  -99   common (this file)
 *    -100 .. -199   WebSocket frames, UTF-8, close codes   (ws_frame.h)
 *                   of which -150 .. -199 permessage-deflate (ws_deflate.h)
 *    -300 .. -399   HTTP/1.1 heads                          (http1.h)
 *    -400 .. -499   WebSocket opening handshake             (ws_handshake.h)
 *    -500 .. -599   Server-Sent Events                      (sse.h)
 *    -600 .. -699   network and I/O (server, client)        (net.h)
 *    -700 .. -749   JSON reader (json.h), base64 (base64.h)
 *    -750 .. -799   transcripts                             (transcript.h)
 *    -800 .. -849   pushwire's own wire format              (pwmsg.h)
 *    -850 .. -899   option values: sizes, durations         (optval.h)
 *    -900 .. -919   message ids                             (msgid.h)
 *    -920 .. -939   the Redis backplane: URL, notifications (redis_wire.h)
 *    -940 .. -959   command lines split into words           (argv.h)
 *   -1000 .. -1049  JSON Web Tokens                         (jwt.h)
 *   -1050 .. -1099  access: origins, addresses, tokens      (auth.h)
 *
 * X(NAME, value, "rule", "message"): "rule" names the specification section
 * that was broken (e.g. "RFC 6455 §5.2") or is NULL for non-protocol errors.
 * pw_strerror()/pw_errrule()/pw_errname() look any code up; they never return
 * NULL and the strings are static.
 */
#ifndef PW_ERR_H
#define PW_ERR_H

#define PW_COMMON_ERRORS(X)                                                   \
    X(AGAIN, -1, NULL, "more input needed")                                   \
    X(NOMEM, -2, NULL, "out of memory")                                       \
    X(TOOBIG, -3, NULL, "size limit exceeded")                                \
    X(INVAL, -4, NULL, "invalid argument")                                    \
    X(STATE, -5, NULL, "operation not valid in this state")                   \
    X(IO, -6, NULL, "input/output error")

#define PW_ERR_ENUM(name, value, rule, msg) PW_E##name = (value),

enum { PW_OK = 0, PW_COMMON_ERRORS(PW_ERR_ENUM) };

/* Protocol codes (ws, http, handshake, sse) are those whose rule is not NULL. */
const char *pw_strerror(int code);
const char *pw_errrule(int code); /* "" when the code names no rule */
const char *pw_errname(int code); /* "PW_EAGAIN" etc. */

#endif
