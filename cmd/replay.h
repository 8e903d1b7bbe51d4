/* replay.h — shared between the parts of `pushwire replay`: replay.c
 * (options, transcript pacing, the client mode) and replay_serve.c (the
 * --serve mode on the embedded server). */
#ifndef PW_REPLAY_H
#define PW_REPLAY_H

#include <stdio.h>
#include <uv.h>

#include "proto/transcript.h"

struct replay_opts {
    const char *file;         /* transcript path, "-" for stdin */
    const char *url;          /* client mode */
    const char *serve;        /* --serve ADDR:PORT */
    double speed;             /* > 0 */
    int no_delay;
    int expect;
    double wait_s;            /* --wait: grace for expected messages */
    const char *channel;      /* --serve: channel the feed goes to */
    const char *first_channel;/* the first channel named in the file, or NULL */
    unsigned long nin;        /* in records of the file (when checked first) */
    size_t backlog;           /* --serve: messages kept */
    size_t max_line;
    size_t max_diffs;
    double connect_timeout_s; /* client mode: --connect-timeout, 0: no limit */
    const char *cacert;
    int insecure;
    int verbose;
};

/* Opens the transcript ("-": stdin).  NULL with a message printed. */
FILE *replay_open(const char *path);
/* Prints "FILE:LINE: WHY" for a reader error; returns the exit status
 * (PW_EXIT_PROTO for a malformed line, PW_EXIT_FAIL for a read error). */
int replay_bad_line(const char *path, const struct pw_treader *r, int rc);
/* With --serve and no --channel, an in record whose "channel" is not a
 * channel name: said with FILE and LINE, PW_EXIT_PROTO.  Else 0. */
int replay_bad_channel(const struct replay_opts *o, const struct pw_trec *rec, unsigned long line);
/* Standard input that is a pipe, FIFO, socket or terminal is read live
 * (pw_treader_live): a producer that pauses does not stop the loop.  Its
 * fd (to poll), or -1 for a file (read with stdio).  *saved_flags are the
 * fd's flags, for replay_live_end once the loop is closed. */
int replay_live(struct pw_treader *r, FILE *f, int *saved_flags);
void replay_live_end(int fd, int saved_flags);
/* The moment a record is due, in ms after the start of the play. */
uint64_t replay_due_ms(const struct replay_opts *o, double t);

int replay_serve_main(const struct replay_opts *o);

#endif
