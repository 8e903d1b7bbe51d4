/* connect_http.c — the SSE and long-polling side of `connect`. */
#include "client_http.h"
#include "connect.h"
#include "opt.h"

void pw_httpc_free(struct pw_httpc *h) { (void)h; }

void pwc_http_start(void)
{
    pwc_info("http:// is not implemented yet");
    pwc_finish(PW_EXIT_FAIL);
}

void pwc_http_done(void) { pwc_finish(A.exit_code); }
