/* main.c — the multi-call dispatcher: `pushwire APPLET …`, or the applet
 * named by the link the binary was started through (APPLET or
 * pushwire-APPLET).  Also `--help`, `--version`, `help [APPLET]` and the
 * hidden `help --gen=FORMAT` used by tools/gendocs.sh to generate the man
 * page OPTIONS sections and shell completions from the option tables. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "applets.h"
#include "gendocs.h"
#include "opt.h"

#ifndef PW_VERSION
#define PW_VERSION "0.1.0"
#endif

#define PW_DECLARE(n) extern const struct pw_applet pw_applet_##n;
PW_APPLETS(PW_DECLARE)
#define PW_ROW(n) &pw_applet_##n,
/* NULL-terminated so the list may be empty while applets are being added */
static const struct pw_applet *const applets[] = {PW_APPLETS(PW_ROW) NULL};
#define NAPPLETS (sizeof applets / sizeof applets[0] - 1) /* may be 0 */

const struct pw_applet *const *pw_applet_list(size_t *n)
{
    size_t k = 0;
    while (applets[k])
        k++;
    *n = k;
    return applets;
}

static const struct pw_applet *find(const char *name)
{
    for (size_t i = 0; applets[i]; i++)
        if (strcmp(applets[i]->name, name) == 0)
            return applets[i];
    return NULL;
}

static void top_usage(FILE *f)
{
    fprintf(f, "usage: pushwire APPLET [OPTIONS] [ARGS]\n"
               "       pushwire help APPLET | --help | --version\n\n"
               "WebSocket, Server-Sent Events and long polling, from the shell.\n\n"
               "applets:\n");
    for (size_t i = 0; applets[i]; i++)
        fprintf(f, "  %-10s %s\n", applets[i]->name, applets[i]->summary);
    fprintf(f, "\nexit status: 0 ok, 1 failure, 2 usage, 3 protocol violation, 4 cannot "
               "connect,\n5 TLS, 6 rejected, 7 timeout, 8 abnormal close, 9 resume gap.\n"
               "See pushwire(1).\n");
}

static int unknown_applet(const char *name)
{
    const char *names[NAPPLETS + 1];
    size_t n = 0;
    for (; applets[n]; n++)
        names[n] = applets[n]->name;
    names[n] = NULL;
    const char *near = pw_closest(name, names, n);
    if (near)
        fprintf(stderr, "pushwire: '%s' is not an applet; did you mean '%s'?\n", name, near);
    else
        fprintf(stderr, "pushwire: '%s' is not an applet; see 'pushwire --help'\n", name);
    return PW_EXIT_USAGE;
}

static int run(const struct pw_applet *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
            pw_quiet = 1;
    }
    return pw_finish_stdout(a->name, a->main(argc, argv));
}

static int help(int argc, char **argv)
{
    if (argc >= 2 && strncmp(argv[1], "--gen=", 6) == 0)
        return pw_gendocs(argv[1] + 6, argc > 2 ? argv[2] : NULL);
    if (argc < 2) {
        top_usage(stdout);
        return pw_finish_stdout("help", 0);
    }
    const struct pw_applet *a = find(argv[1]);
    if (!a)
        return unknown_applet(argv[1]);
    pw_usage(a);
    return pw_finish_stdout(a->name, 0);
}

/* A standard descriptor the caller closed (cron, `2>&-`) would be the next
 * descriptor opened — a socket, libuv's epoll or signal pipe — and then
 * output meant for stdout or stderr would go there, and libuv asserts that
 * it never closes 0, 1 or 2.  Each closed one is taken by /dev/null first:
 * stdin reads as empty; stdout and stderr are opened read-only, so a write
 * fails with EBADF as it did on the closed descriptor. */
static void std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
            continue;
        int n = open("/dev/null", O_RDONLY);
        if (n >= 0 && n != fd) { /* (cannot be: fd was the lowest free one) */
            dup2(n, fd);
            close(n);
        }
    }
}

int main(int argc, char **argv)
{
    std_fds();
    /* a closed reader is reported through write errors, not a signal */
    signal(SIGPIPE, SIG_IGN);
    char self[256];
    snprintf(self, sizeof self, "%s", argc > 0 && argv[0] ? argv[0] : "pushwire");
    const char *base = basename(self);
    if (strncmp(base, "pushwire-", 9) == 0)
        base += 9;
    const struct pw_applet *a = find(base);
    if (a)
        return run(a, argc, argv);
    if (argc < 2) {
        top_usage(stderr);
        return PW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        top_usage(stdout);
        return pw_finish_stdout("help", 0);
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("pushwire %s\n", PW_VERSION);
        return pw_finish_stdout("version", 0);
    }
    if (strcmp(cmd, "help") == 0)
        return help(argc - 1, argv + 1);
    if (cmd[0] == '-') {
        fprintf(stderr, "pushwire: unknown option '%s'; see 'pushwire --help'\n", cmd);
        return PW_EXIT_USAGE;
    }
    a = find(cmd);
    if (!a)
        return unknown_applet(cmd);
    return run(a, argc - 1, argv + 1);
}
