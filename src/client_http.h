/* client_http.h — SSE and long-polling client over libcurl's multi
 * interface, driven by the caller's libuv loop. */
#ifndef PW_CLIENT_HTTP_H
#define PW_CLIENT_HTTP_H

struct pw_httpc;
void pw_httpc_free(struct pw_httpc *h);

#endif
