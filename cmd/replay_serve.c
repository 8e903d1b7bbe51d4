/* replay_serve.c — `pushwire replay FILE --serve ADDR:PORT`. */
#include "opt.h"
#include "replay.h"

int replay_serve_main(const struct replay_opts *o)
{
    (void)o;
    pw_err("replay", "--serve needs the server, which is not built in yet");
    return PW_EXIT_FAIL;
}
