#!/bin/sh
# gendocs.sh [OUTDIR] — regenerate what the option tables define:
#   - in man/pushwire-APPLET.1, the blocks between the marker comments
#       .\" BEGIN GENERATED SYNOPSIS / .\" END GENERATED SYNOPSIS
#       .\" BEGIN GENERATED OPTIONS  / .\" END GENERATED OPTIONS
#   - completions/pushwire.bash, completions/_pushwire, completions/pushwire.fish
# With OUTDIR, writes there instead of in place (the drift test diffs them).
set -eu
cd "$(dirname "$0")/.."
PW=${PW:-./pushwire}
out=${1:-.}
mkdir -p "$out/man" "$out/completions"

splice() { # file marker generated-file > stdout
    awk -v m="$2" -v g="$3" '
        $0 == ".\\\" BEGIN GENERATED " m { print; while ((getline l < g) > 0) print l; skip = 1; next }
        $0 == ".\\\" END GENERATED " m { skip = 0 }
        !skip { print }' "$1"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for a in $("$PW" help --gen=applets); do
    page=man/pushwire-$a.1
    [ -f "$page" ] || { echo "gendocs: $page is missing" >&2; exit 1; }
    "$PW" help --gen=mdoc-synopsis "$a" >"$tmp/syn"
    "$PW" help --gen=mdoc-options "$a" >"$tmp/opt"
    splice "$page" SYNOPSIS "$tmp/syn" >"$tmp/p1"
    splice "$tmp/p1" OPTIONS "$tmp/opt" >"$tmp/p2"
    cp "$tmp/p2" "$out/$page"
done
"$PW" help --gen=bash >"$out/completions/pushwire.bash"
"$PW" help --gen=zsh >"$out/completions/_pushwire"
"$PW" help --gen=fish >"$out/completions/pushwire.fish"
