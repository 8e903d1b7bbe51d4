/* pw_errio.h — the error codes of the I/O layers (server, host and client,
 * -600..-699), listed in proto so that the one error table (pw_err.c) can
 * name every code without the pure library depending on the I/O.
 *   -600..-649  network and server (host/net.h, server/)
 *   -650..-699  client (client/client.h)
 */
#ifndef PW_ERRIO_H
#define PW_ERRIO_H

#include "pw_err.h"

#define PW_NET_ERRORS(X)                                                       \
    X(NET_ADDR, -600, NULL, "malformed address (want HOST:PORT or [IPv6]:PORT)") \
    X(NET_BIND, -601, NULL, "cannot bind the listen address")                 \
    X(NET_LISTEN, -602, NULL, "cannot listen on the address")                 \
    X(NET_LOOP, -603, NULL, "event loop failure")                             \
    X(NET_CHANNEL, -604, "docs/PROTOCOL.md#channels", "channel name must be 1-128 characters of [A-Za-z0-9._~-]") \
    X(NET_ID, -605, "docs/PROTOCOL.md#ids-and-resume", "malformed message id") \
    X(NET_SLOW, -606, NULL, "subscriber cannot keep up (send buffer full)")   \
    X(NET_CLOSED, -607, NULL, "connection closed")                           \
    X(NET_BACKEND, -608, NULL, "the message backend is unavailable")         \
    X(NET_TLS, -620, NULL, "cannot load the TLS certificate or key")           \
    X(NET_CHANNELS, -621, NULL, "too many channels (--max-channels): publish to an existing channel or try later")

enum { PW_NET_ERRORS(PW_ERR_ENUM) };

#define PW_CLIENT_ERRORS(X)                                                    \
    X(CL_URL, -650, NULL, "malformed URL")                                     \
    X(CL_SCHEME, -651, NULL, "unsupported URL scheme")                         \
    X(CL_RESOLVE, -652, NULL, "cannot resolve host")                           \
    X(CL_CONNECT, -653, NULL, "cannot connect")                                \
    X(CL_TLS, -654, NULL, "TLS handshake failed")                              \
    X(CL_TLS_VERIFY, -655, NULL, "certificate verification failed")            \
    X(CL_PROXY, -656, NULL, "proxy refused the tunnel")                        \
    X(CL_REJECTED, -657, NULL, "server answered with an HTTP error status")    \
    X(CL_ABNORMAL, -658, NULL, "connection closed without a close frame (1006)") \
    X(CL_TIMEOUT, -659, NULL, "timed out")                                     \
    X(CL_CLOSE_TIMEOUT, -660, NULL, "server did not answer the close frame in time") \
    X(CL_IO, -661, NULL, "network read or write failed")                       \
    X(CL_CLIENT_CERT, -662, NULL, "no client certificate, or one that cannot be used")

enum { PW_CLIENT_ERRORS(PW_ERR_ENUM) };

#endif
