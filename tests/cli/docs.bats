#!/usr/bin/env bats
# One source of truth: the option tables generate --help, the man page
# SYNOPSIS/OPTIONS blocks and the completions.  These tests fail when one
# of them drifts from the tables, or when a page is not lint-clean.
load helper

applets() { "$PW" help --gen=applets; }

@test "every man page is mandoc -Tlint clean" {
    for f in "$TOP"/man/*.1; do
        run mandoc -Tlint -Wwarning "$f"
        assert_success
        assert_output ''
    done
}

@test "every man page renders with groff -man -ww: no warning" {
    command -v groff >/dev/null || missing "groff is not installed"
    # the classes seen: a long literal with no break point ("can't break
    # line": give it \: after its commas), a byte past ASCII, which groff
    # reads as Latin-1 without preconv ("invalid input character": the
    # generator writes \[uXXXX])
    for f in "$TOP"/man/*.1; do
        for dev in utf8 ps; do
            run groff -man -ww -z -T"$dev" "$f"
            assert_output ''
        done
    done
}

@test "no man page macro has a quoted argument glued to more text (mandoc splits it: \"gap\":true shows as gap :true)" {
    run grep -nE '^\.[A-Z][a-z]([^"]* )?"[^"]*"[^ ]' "$TOP"/man/*.1
    assert_output ''
}

@test "every applet has a man page and pushwire(1) names it" {
    for a in $(applets); do
        [ -f "$TOP/man/pushwire-$a.1" ] || fail "man/pushwire-$a.1 is missing"
        grep -q "pushwire-$a" "$TOP/man/pushwire.1" || fail "pushwire.1 does not name $a"
    done
}

@test "every option table's defaults and bounds parse and agree with their types" {
    run "$PW" help --gen=check
    assert_success
    assert_output ''
}

@test "generated man page blocks and completions match the option tables" {
    d=$(mktemp -d)
    PW=$PW "$TOP/tools/gendocs.sh" "$d"
    for a in $(applets); do
        run diff -u "$TOP/man/pushwire-$a.1" "$d/man/pushwire-$a.1"
        assert_success
    done
    for f in pushwire.bash _pushwire pushwire.fish; do
        run diff -u "$TOP/completions/$f" "$d/completions/$f"
        assert_success
    done
    rm -rf "$d"
}

@test "every option appears in --help, the man page and all three completions" {
    # substring tests in bash, not a grep per option and place (~750 forks)
    local cbash czsh cfish
    cbash=$(<"$TOP/completions/pushwire.bash")
    czsh=$(<"$TOP/completions/_pushwire")
    cfish=$(<"$TOP/completions/pushwire.fish")
    for a in $(applets); do
        help=$("$PW" "$a" --help)
        man=$(mandoc -Tascii "$TOP/man/pushwire-$a.1" | col -b)
        for o in $("$PW" help --gen=options "$a"); do
            [[ $o =~ ^--[a-z][a-z0-9-]*$ ]] || fail "$a: option name '$o'"
            [[ $help == *"$o"* ]] || fail "$a: $o missing from --help"
            [[ $man == *"$o"* ]] || fail "$a: $o missing from the man page"
            [[ $cbash == *"$o"* ]] || fail "$a: $o missing from bash"
            [[ $czsh == *"$o"* ]] || fail "$a: $o missing from zsh"
            [[ $cfish == *"-l ${o#--}"* ]] || fail "$a: $o missing from fish"
        done
    done
}

@test "the man page documents no option the applet does not have" {
    for a in $(applets); do
        opts=$("$PW" help --gen=options "$a")
        man=$(mandoc -Tascii "$TOP/man/pushwire-$a.1" | col -b | sed -n '/^OPTIONS/,/^[A-Z]/p')
        for o in $(grep -oE -- '(^| )--[a-z][a-z0-9-]*' <<<"$man" | tr -d ' ' | sort -u); do
            # a whole line of $opts (bash, not a grep per option)
            [[ $'\n'$opts$'\n' == *$'\n'"$o"$'\n'* ]] || fail "$a: man OPTIONS has $o, the table does not"
        done
    done
}

@test "the bash completion completes applets and options" {
    a=$(applets | head -n 1)
    [ -n "$a" ] || fail "no applet registered"
    run bash -c "source '$TOP/completions/pushwire.bash'
        COMP_WORDS=(pushwire ''); COMP_CWORD=1; _pushwire; echo \"\${COMPREPLY[*]}\"
        COMP_WORDS=(pushwire $a --hel); COMP_CWORD=2; _pushwire; echo \"\${COMPREPLY[*]}\""
    assert_success
    assert_line --index 0 --partial "$a"
    assert_line --index 1 '--help'
}

@test "the bash completion completes a value after --opt= (files, words), whether or not '=' breaks words" {
    cd "$BATS_TEST_TMPDIR"
    touch cert.pem
    # comp WORD... — the words as bash splits the line, the last one the
    # current: one reply per line
    run bash -c 'source "$0"
        comp() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _pushwire; printf "[%s]\n" "${COMPREPLY[*]}"; }
        comp pushwire serve --tls-cert =
        comp pushwire serve --tls-cert = ce
        comp pushwire serve --tls-cert=ce
        comp pushwire serve --log =
        comp pushwire serve --log = j
        comp pushwire serve --log=j
        comp pushwire-serve --log = t
        comp pushwire serve --echo =
        comp pushwire connect --cursor-file=c
        comp pushwire connect --reconnect = c
        comp pushwire serve --log j
        comp pushwire serve --tls-c' "$TOP/completions/pushwire.bash"
    assert_success
    assert_line --index 0 "[cert.pem]"
    assert_line --index 1 "[cert.pem]"
    assert_line --index 2 "[--tls-cert=cert.pem]"
    assert_line --index 3 "[text json]"
    assert_line --index 4 "[json]"
    assert_line --index 5 "[--log=json]"
    assert_line --index 6 "[text]"
    assert_line --index 7 "[]"
    assert_line --index 8 "[--cursor-file=cert.pem]"
    assert_line --index 9 "[]"
    assert_line --index 10 "[json]"
    assert_line --index 11 "[--tls-cert]"
}

# complete_in SHELL — tests/cli/complete_pty.py types lines with TABs into a
# real interactive SHELL with the completions loaded (zsh: compinit) and
# prints what each line became; here, in a directory holding one file
complete_in() {
    command -v "$1" >/dev/null || { missing "$1 is not installed"; return; }
    cd "$BATS_TEST_TMPDIR"
    touch cert.pem
    run timeout 60 /usr/bin/python3 "$BATS_TEST_DIRNAME/complete_pty.py" "$1" "$TOP/completions" \
        $'pushwire ser\t--log=j\t' $'pushwire serve --tls-cert=ce\t' $'pushwire serve --tls-cert ce\t' \
        $'pushwire help fr\t' $'pushwire-frame --role=se\t' $'pushwire-serve --log j\t' \
        $'pushwire connect -n 3 --connect-t\t1' $'pushwire connect --reconnect=\t'
    assert_success
    assert_line --index 0 'ARGS:serve --log=json'
    assert_line --index 1 'ARGS:serve --tls-cert=cert.pem'
    assert_line --index 2 'ARGS:serve --tls-cert cert.pem'
    assert_line --index 3 'ARGS:help frame'
    assert_line --index 4 'ARGS:--role=server'
    assert_line --index 5 'ARGS:--log json'
    # zsh offers an option that takes a value as --opt= (getopt takes both)
    assert_line --index 6 --regexp '^ARGS:connect -n 3 --connect-timeout[ =]1$'
    assert_line --index 7 'ARGS:connect --reconnect='
}

@test "bash completes options, values and --opt=VALUE at a real prompt" {
    complete_in bash
}

@test "zsh completes options, values and --opt=VALUE at a real prompt (compinit)" {
    complete_in zsh
}

@test "fish completes options, values and --opt=VALUE at a real prompt" {
    complete_in fish
}

@test "the zsh completion is syntactically valid" {
    command -v zsh >/dev/null || missing "zsh is not installed"
    run zsh -n "$TOP/completions/_pushwire"
    assert_success
}

@test "the zsh completion gives _arguments one well-formed spec per option form; a repeatable option may come again" {
    command -v zsh >/dev/null || missing "zsh is not installed"
    # _arguments replaced by a stub that prints the words it gets: a space
    # in an argument name ('NAME: VALUE') split a spec in two, a colon in
    # one (ADDR:PORT) made the rest an action to run; an option without
    # '*' is not offered again once given (--listen, --header ...)
    for a in $(applets); do
        run zsh -f -c '_arguments() { local w; for w in "$@"; do print -r -- "$w"; done }
            service=pushwire-$2; source "$1"' zsh "$TOP/completions/_pushwire" "$a"
        assert_success
        specs=$output
        help=$("$PW" "$a" --help)
        while IFS= read -r spec; do
            [[ $spec == -s || $spec == '*:argument:_files' ]] && continue
            [[ $spec =~ ^(\*|\([^\)]*\))?-[-a-zA-Z0-9]*=?-?\[ ]] || fail "$a: not an option spec: $spec"
            t=${spec//\\[/}
            t=${t//\\]/}
            t=${t#*]}
            t=${t//\\:/}
            c=${t//[^:]/}
            [[ ${#c} == 0 || ${#c} == 2 ]] || fail "$a: message and action not two fields: $spec"
        done <<<"$specs"
        for o in $("$PW" help --gen=options "$a"); do
            line=$(grep -E -- "(^ *|, )$o( |\$)" <<<"$help" || true)
            [[ $line == *repeatable* ]] || continue
            grep -qE -- "^\*[^[]*$o=" <<<"$specs" || fail "$a: $o is repeatable, its zsh spec is not '*'"
        done
    done
}

@test "the fish completion is syntactically valid" {
    command -v fish >/dev/null || missing "fish is not installed"
    run fish -n "$TOP/completions/pushwire.fish"
    assert_success
}

@test "README shows the two set-up commands and an example for every applet" {
    grep -q 'make run' "$TOP/README.md"
    grep -q 'make test' "$TOP/README.md"
    for a in $(applets); do
        grep -q "pushwire $a" "$TOP/README.md" || fail "README has no example of $a"
    done
}

@test "every example whose output README.md or a man page shows prints that output (handshake, frame)" {
    # the applets that need no server, no network and no host limits; the
    # shown output is standard output then standard error, compared with
    # runs of white space as one space (a man page wraps a long line)
    bin=$BATS_TEST_TMPDIR/bin
    mkdir -p "$bin"
    ln -s "$PW" "$bin/pushwire"
    norm() { tr -s ' \t\r\n' '    ' | sed 's/^ //; s/ $//'; }
    local n=0 cmd want got
    for f in "$TOP/README.md" "$TOP"/man/*.1; do
        while IFS=$'\037' read -r -d $'\036' cmd want; do
            for a in $(grep -oE 'pushwire [a-z]+' <<<"$cmd" | cut -d' ' -f2); do
                [[ $a == handshake || $a == frame ]] || continue 2
            done
            got=$(cd "$BATS_TEST_TMPDIR" && PATH=$bin:$PATH bash -c "$cmd" 2>"$BATS_TEST_TMPDIR/err"; cat "$BATS_TEST_TMPDIR/err")
            [ "$(norm <<<"$got")" = "$(norm <<<"$want")" ] ||
                fail "${f#"$TOP"/}: \$ $cmd"$'\n'"shows:"$'\n'"$want"$'\n'"prints:"$'\n'"$got"
            n=$((n + 1))
        done < <(awk -f "$TOP/tests/cli/examples.awk" "$f")
    done
    [ "$n" -ge 8 ] || fail "only $n examples with output found"
}
