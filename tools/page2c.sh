#!/bin/sh
# page2c.sh [OUT] — turns src/server/page.html (the demo page served at /) into
# src/server/page.c, a C string.  Run it after editing page.html; the serve suite
# fails when the two differ.
set -eu
cd "$(dirname "$0")/.."
out=${1:-src/server/page.c}
{
    printf '/* page.c — GENERATED from src/server/page.html by tools/page2c.sh; do not edit.\n'
    printf ' * The demo page served at / (no external assets). */\n'
    printf '#include <stddef.h>\n\nconst char srv_page_html[] =\n'
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' src/server/page.html
    printf ';\nconst size_t srv_page_len = sizeof srv_page_html - 1;\n'
} >"$out"
