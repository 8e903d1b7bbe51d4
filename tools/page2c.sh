#!/bin/sh
# page2c.sh [OUT] — turns src/page.html (the demo page served at /) into
# src/page.c, a C string.  Run it after editing page.html; the serve suite
# fails when the two differ.
set -eu
cd "$(dirname "$0")/.."
out=${1:-src/page.c}
{
    printf '/* page.c — GENERATED from src/page.html by tools/page2c.sh; do not edit.\n'
    printf ' * The demo page served at / (no external assets). */\n'
    printf '#include <stddef.h>\n\nconst char srv_page_html[] =\n'
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/    "/' -e 's/$/\\n"/' src/page.html
    printf ';\nconst size_t srv_page_len = sizeof srv_page_html - 1;\n'
} >"$out"
