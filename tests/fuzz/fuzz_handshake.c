/* fuzz_handshake.c — the handshake header parsers (ws_handshake.h).
 * The first byte picks the target: extension list, subprotocol list, key
 * check; the rest is the header value. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/ws_handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct pw_str v = {(const char *)data + 1, size - 1};
    switch (data[0] % 3) {
    case 0: {
        struct pw_ws_ext e[PW_WS_MAX_EXTS];
        char out[64];
        int n = pw_ws_ext_parse(v, e, 0, PW_WS_MAX_EXTS);
        for (int i = 0; i < n; i++) {
            if (e[i].name.len == 0 || e[i].name.p < v.p || e[i].name.p + e[i].name.len > v.p + v.len)
                __builtin_trap();
            for (size_t k = 0; k < e[i].nparams; k++)
                (void)pw_ws_ext_value(&e[i].params[k], out, sizeof out);
        }
        break;
    }
    case 1: {
        struct pw_str p[PW_WS_MAX_PROTOS];
        int n = pw_ws_proto_parse(v, p, 0, PW_WS_MAX_PROTOS);
        for (int i = 0; i < n; i++)
            if (p[i].len == 0 || p[i].p < v.p || p[i].p + p[i].len > v.p + v.len)
                __builtin_trap();
        break;
    }
    default: {
        char acc[PW_WS_ACCEPT_LEN + 1];
        if (pw_ws_key_check(v.p, v.len) == 0 && v.len != PW_WS_KEY_LEN)
            __builtin_trap();
        if (pw_ws_accept_key(v.p, v.len, acc) != 0 || strlen(acc) != PW_WS_ACCEPT_LEN)
            __builtin_trap();
        break;
    }
    }
    return 0;
}
