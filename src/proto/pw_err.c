#include "pw_err.h"

#include <stddef.h>

#include "auth.h"
#include "argv.h"
#include "base64.h"
#include "http1.h"
#include "json.h"
#include "jwt.h"
#include "msgid.h"
#include "optval.h"
#include "pw_errio.h"
#include "pwmsg.h"
#include "redis_wire.h"
#include "sse.h"
#include "transcript.h"
#include "ws_deflate.h"
#include "ws_frame.h"
#include "ws_handshake.h"

struct pw_errinfo {
    int code;
    const char *name, *rule, *msg;
};

#define PW_ERR_ROW(name, value, rule, msg) {(value), "PW_E" #name, (rule), (msg)},

static const struct pw_errinfo pw__errtab[] = {
    PW_COMMON_ERRORS(PW_ERR_ROW)
    PW_WS_ERRORS(PW_ERR_ROW)
    PW_WSD_ERRORS(PW_ERR_ROW)
    PW_HTTP_ERRORS(PW_ERR_ROW)
    PW_HS_ERRORS(PW_ERR_ROW)
    PW_SSE_ERRORS(PW_ERR_ROW)
    PW_NET_ERRORS(PW_ERR_ROW)
    PW_JSON_ERRORS(PW_ERR_ROW)
    PW_BASE64_ERRORS(PW_ERR_ROW)
    PW_CLIENT_ERRORS(PW_ERR_ROW)
    PW_TRANSCRIPT_ERRORS(PW_ERR_ROW)
    PW_VAL_ERRORS(PW_ERR_ROW)
    PW_PWMSG_ERRORS(PW_ERR_ROW)
    PW_MSGID_ERRORS(PW_ERR_ROW)
    PW_REDIS_ERRORS(PW_ERR_ROW)
    PW_JWT_ERRORS(PW_ERR_ROW)
    PW_AUTH_ERRORS(PW_ERR_ROW)
    PW_ARGV_ERRORS(PW_ERR_ROW)
};

static const struct pw_errinfo *pw__errfind(int code)
{
    for (size_t i = 0; i < sizeof pw__errtab / sizeof pw__errtab[0]; i++)
        if (pw__errtab[i].code == code)
            return &pw__errtab[i];
    return NULL;
}

const char *pw_strerror(int code)
{
    if (code >= 0)
        return "success";
    const struct pw_errinfo *e = pw__errfind(code);
    return e ? e->msg : "unknown error";
}

const char *pw_errrule(int code)
{
    const struct pw_errinfo *e = pw__errfind(code);
    return e && e->rule ? e->rule : "";
}

const char *pw_errname(int code)
{
    if (code >= 0)
        return "PW_OK";
    const struct pw_errinfo *e = pw__errfind(code);
    return e ? e->name : "PW_E?";
}
