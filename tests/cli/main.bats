#!/usr/bin/env bats
# The multi-call binary: dispatch, help, version, errors (SPEC §1).
load helper

applets() { "$PW" help --gen=applets; }
first_applet() { applets | head -n 1; }

@test "--version prints the name and a version" {
    run pw --version
    assert_success
    assert_output --regexp '^pushwire [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--help lists every applet with its summary" {
    run pw --help
    assert_success
    assert_line --index 0 --partial 'usage: pushwire APPLET'
    for a in $(applets); do assert_output --regexp "  $a +[a-z]"; done
}

@test "no arguments prints usage on stderr and exits 2" {
    run pw
    assert_failure 2
    assert_output --partial 'usage: pushwire APPLET'
}

@test "unknown applet exits 2, names it and suggests the closest" {
    a=$(first_applet)
    [ -n "$a" ] || fail "no applet registered"
    run pw "${a%?}"
    assert_failure 2
    assert_output "pushwire: '${a%?}' is not an applet; did you mean '$a'?"
}

@test "an applet name far from every applet gets no suggestion" {
    run pw zzzzzzzzzz
    assert_failure 2
    assert_output "pushwire: 'zzzzzzzzzz' is not an applet; see 'pushwire --help'"
}

@test "unknown top-level option exits 2" {
    run pw --frobnicate
    assert_failure 2
    assert_output --partial "unknown option '--frobnicate'"
}

@test "help APPLET and APPLET --help print the same usage" {
    for a in $(applets); do
        run pw help "$a"
        assert_success
        h1=$output
        run pw "$a" --help
        assert_success
        [ "$output" = "$h1" ]
        assert_line --index 0 --partial "usage: pushwire $a"
    done
}

@test "help with an unknown applet exits 2" {
    run pw help nosuchapplet
    assert_failure 2
    assert_output --partial "'nosuchapplet' is not an applet"
}

@test "help --gen=FORMAT (pushwire(1)): an unknown FORMAT or applet is named as such, exit 2" {
    # both were 'needs an applet name', the applet given or not
    run "$PW" help --gen=nope
    assert_failure 2
    assert_output "pushwire help: unknown generator 'nope'"
    run "$PW" help --gen=options nope
    assert_failure 2
    assert_output "pushwire help: 'nope' is not an applet; see 'pushwire --help'"
    run "$PW" help --gen=options
    assert_failure 2
    assert_output "pushwire help: --gen=options needs an applet name"
    run "$PW" help --gen=options frame
    assert_success
    assert_line --index 0 -- --help
}

@test "dispatch by link name: APPLET and pushwire-APPLET" {
    a=$(first_applet)
    [ -n "$a" ] || fail "no applet registered"
    d=$(mktemp -d)
    ln -s "$PW" "$d/$a"
    ln -s "$PW" "$d/pushwire-$a"
    run "$d/$a" --help
    assert_success
    assert_line --index 0 --partial "usage: pushwire $a"
    run "$d/pushwire-$a" --help
    assert_success
    assert_line --index 0 --partial "usage: pushwire $a"
    rm -rf "$d"
}

@test "unknown option in an applet exits 2 and suggests the closest" {
    for a in $(applets); do
        run pw "$a" --hepl
        assert_failure 2
        assert_output "pushwire $a: unknown option '--hepl'; did you mean '--help'?"
    done
}

@test "unknown short option in an applet exits 2" {
    for a in $(applets); do
        run pw "$a" -Z
        assert_failure 2
        assert_output --partial "pushwire $a: unknown option '-Z'"
    done
}

@test "a write error on stdout is reported and fails" {
    [ -w /dev/full ] || missing "no writable /dev/full"
    run bash -c '"$PW" --help >/dev/full'
    assert_failure 1
    assert_output --partial 'write error on stdout'
}

@test "installed, fish completes a pushwire-APPLET link by itself (fish loads completions by command name); uninstall removes it" {
    command -v fish >/dev/null || missing "fish is not installed"
    d=$(mktemp -d)
    run make -C "$TOP" -s install install-links DESTDIR="$d" PREFIX=/opt/pw
    assert_success
    # a fresh fish, which has not loaded pushwire.fish for `pushwire` first
    run fish --no-config -c 'set PATH $argv[1] $PATH; set fish_complete_path $argv[2] $fish_complete_path
        complete -C "pushwire-serve --lis"; complete -C "pushwire-frame --ro"' \
        "$d/opt/pw/bin" "$d/opt/pw/share/fish/vendor_completions.d"
    assert_success
    [ -n "$output" ] || fail "fish completed nothing for pushwire-serve and pushwire-frame"
    assert_line --partial $'--listen\t'
    assert_line --partial $'--role\t'
    run make -C "$TOP" -s uninstall DESTDIR="$d" PREFIX=/opt/pw
    assert_success
    run find "$d" -type f -o -type l
    assert_output ''
    rm -rf "$d"
}

@test "make install honours DESTDIR and PREFIX; install-links adds pushwire-APPLET" {
    d=$(mktemp -d)
    run make -C "$TOP" -s install install-links DESTDIR="$d" PREFIX=/opt/pw
    assert_success
    [ -x "$d/opt/pw/bin/pushwire" ]
    [ -f "$d/opt/pw/share/man/man1/pushwire.1" ]
    [ -f "$d/opt/pw/share/bash-completion/completions/pushwire" ]
    [ -f "$d/opt/pw/share/zsh/site-functions/_pushwire" ]
    [ -f "$d/opt/pw/share/fish/vendor_completions.d/pushwire.fish" ]
    for a in $(applets); do
        [ -L "$d/opt/pw/bin/pushwire-$a" ]
        [ -f "$d/opt/pw/share/man/man1/pushwire-$a.1" ]
    done
    rm -rf "$d"
}
