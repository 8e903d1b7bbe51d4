/* gendocs.h — generators that turn the option tables into the man page
 * SYNOPSIS/OPTIONS blocks and bash/zsh/fish completions (tools/gendocs.sh
 * writes them into man/ and completions/; tests/cli/docs.bats fails when the
 * committed files differ from what the tables generate). */
#ifndef PW_GENDOCS_H
#define PW_GENDOCS_H

#include <stddef.h>

#include "opt.h"

const struct pw_applet *const *pw_applet_list(size_t *n);
/* fmt: mdoc-synopsis, mdoc-options (need applet), options (long names, one a
 * line), bash, zsh, fish.  Writes to stdout; returns an exit code. */
int pw_gendocs(const char *fmt, const char *applet);

#endif
