/* handshake_url.h — the live mode of `pushwire handshake URL`. */
#ifndef PW_HANDSHAKE_URL_H
#define PW_HANDSHAKE_URL_H

#include <stddef.h>

struct pw_hs_url_opts {
    const char *url;
    const char *const *protos;
    size_t nprotos;
    const char *const *exts;
    size_t nexts;
    const char *const *headers;
    size_t nheaders;
    const char *origin, *cacert;
    int insecure, json;
};

/* Performs the handshake, prints it and the verdict; returns an exit status. */
int pw_hs_url(const struct pw_hs_url_opts *o);
int pwc_exit_for(int err); /* cmd/connect.c: error → exit status */

#endif
