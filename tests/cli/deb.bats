#!/usr/bin/env bats
# make deb and the systemd unit: the package is built once, into a temp
# dir (its own objects too: the source tree is left alone), then taken
# apart: contents, control fields, lintian, the unit (systemd-analyze where
# there is one, a parser of known keys always), make install, and a
# throwaway dpkg root.  The package does not depend on the build variant:
# tests/run runs this file in the release pass only.
# pw-variants: rel
load helper

version() { sed -n 's/^#define PW_VERSION "\([^"]*\)"$/\1/p' "$TOP/cmd/main.c"; }

# a skip in setup_file needs bats 1.9 (Debian 12 has 1.8): setup() reports it
setup_file() {
    export DEB_SKIP=
    if ! command -v dpkg-deb >/dev/null || ! command -v dpkg-shlibdeps >/dev/null; then
        DEB_SKIP="dpkg-dev is not installed (make deps)"
        return 0
    fi
    export DEB_OUT=$BATS_FILE_TMPDIR/deb
    if ! timeout 900 make -C "$TOP" -j2 --no-print-directory deb DEB_DIR="$DEB_OUT" \
        >"$BATS_FILE_TMPDIR/make.log" 2>&1; then
        tail -40 "$BATS_FILE_TMPDIR/make.log" >&3
        return 1
    fi
    DEB=$(echo "$DEB_OUT"/pushwire_*.deb)
    export DEB
    export XR=$BATS_FILE_TMPDIR/x
    dpkg-deb -x "$DEB" "$XR"
}

setup() {
    [ -z "$DEB_SKIP" ] || missing "$DEB_SKIP"
}

# the unit with ExecStart= pointing at the extracted binary, for the checkers
unit_here() {
    sed "s|/usr/bin/pushwire|$XR/usr/bin/pushwire|" "$XR/usr/lib/systemd/system/pushwire.service" \
        >"$BATS_TEST_TMPDIR/pushwire.service"
    echo "$BATS_TEST_TMPDIR/pushwire.service"
}

# unit_lint FILE — what systemd-analyze would say about the syntax, for
# machines without it: sections we use, KEY=VALUE lines, keys known in
# their section, no key twice unless systemd adds the lines up.
unit_lint() {
    awk '
    BEGIN {
        split("Description Documentation After Before Wants Requires", u)
        split("Type EnvironmentFile Environment ExecStart ExecReload ExecStop Restart RestartSec " \
              "RestartPreventExitStatus LimitNOFILE LogsDirectory StateDirectory RuntimeDirectory " \
              "UMask DynamicUser User Group " \
              "NoNewPrivileges CapabilityBoundingSet AmbientCapabilities ProtectSystem ProtectHome " \
              "PrivateTmp PrivateDevices PrivateMounts ProtectKernelTunables ProtectKernelModules " \
              "ProtectKernelLogs ProtectControlGroups ProtectClock ProtectHostname ProtectProc " \
              "RestrictAddressFamilies RestrictNamespaces RestrictRealtime RestrictSUIDSGID " \
              "LockPersonality MemoryDenyWriteExecute SystemCallArchitectures SystemCallFilter " \
              "SystemCallErrorNumber LoadCredential ReadWritePaths TimeoutStopSec", s)
        split("WantedBy Alias", i)
        for (k in u) known["Unit", u[k]] = 1
        for (k in s) known["Service", s[k]] = 1
        for (k in i) known["Install", i[k]] = 1
        split("EnvironmentFile Environment SystemCallFilter ExecReload ExecStop Documentation " \
              "After Wants LoadCredential ReadWritePaths", r)
        for (k in r) repeats[r[k]] = 1
    }
    /^[ \t]*([#;].*)?$/ { next }
    /^\[[A-Za-z]+\]$/ {
        sec = substr($0, 2, length($0) - 2)
        if (sec != "Unit" && sec != "Service" && sec != "Install") bad("unknown section [" sec "]")
        next
    }
    !/^[A-Za-z]+=/ { bad("not KEY=VALUE: " $0); next }
    {
        key = substr($0, 1, index($0, "=") - 1)
        if (sec == "") bad(key " outside a section")
        else if (!known[sec, key]) bad("unknown key " key " in [" sec "]")
        else if (seen[sec, key]++ && !repeats[key]) bad(key " set twice in [" sec "]")
    }
    function bad(m) { printf "%s:%d: %s\n", FILENAME, FNR, m; err = 1 }
    END { exit err }' "$1"
}

@test "deb: make deb builds pushwire_VERSION_ARCH.deb and leaves ./pushwire alone" {
    [ -f "$DEB" ] || fail "no .deb in $DEB_OUT: $(ls "$DEB_OUT")"
    assert_equal "${DEB##*/}" "pushwire_$(version)_$(dpkg --print-architecture).deb"
    run grep -c -- "-D_FORTIFY_SOURCE=2 .*-fstack-protector-strong" "$BATS_FILE_TMPDIR/make.log"
    assert_success
    run grep -e "-o $TOP/pushwire " -e "-o pushwire " "$BATS_FILE_TMPDIR/make.log"
    assert_failure
}

@test "deb: dpkg-deb -c lists the binary, man pages, completions, unit, default file" {
    run dpkg-deb -c "$DEB"
    assert_success
    for f in ./usr/bin/pushwire ./usr/lib/systemd/system/pushwire.service ./etc/default/pushwire \
        ./usr/share/bash-completion/completions/pushwire ./usr/share/zsh/vendor-completions/_pushwire \
        ./usr/share/fish/vendor_completions.d/pushwire.fish \
        ./usr/share/doc/pushwire/copyright ./usr/share/doc/pushwire/changelog.gz; do
        assert_line --regexp "^[-rwx]{10} root/root .* $f\$"
    done
    for m in "$TOP"/man/*.1; do
        assert_line --regexp "^-rw-r--r-- root/root .* \./usr/share/man/man1/${m##*/}\.gz\$"
    done
    assert_line --regexp '^-rwxr-xr-x root/root .* \./usr/bin/pushwire$'
}

@test "deb: dpkg-deb -I fields: name, version from cmd/main.c, arch, Depends on what it links" {
    run dpkg-deb -f "$DEB" Package Version Architecture Section Priority Maintainer
    assert_success
    assert_line "Package: pushwire"
    assert_line "Version: $(version)"
    assert_line "Architecture: $(dpkg --print-architecture)"
    assert_line "Section: net"
    assert_line --regexp '^Maintainer: .+ <.+@.+>$'
    run dpkg-deb -f "$DEB" Depends
    for lib in libc6 libcurl4 libssl3 libuv1 zlib1g; do
        assert_output --regexp "(^|, )$lib( \\(>= [^)]+\\))?(,|$)"
    done
    run dpkg-deb -f "$DEB" Installed-Size
    assert_output --regexp '^[1-9][0-9]*$'
    run dpkg-deb -I "$DEB" conffiles
    assert_output "/etc/default/pushwire"
    for s in postinst prerm postrm; do
        dpkg-deb -I "$DEB" $s >"$BATS_TEST_TMPDIR/$s"
        run sh -n "$BATS_TEST_TMPDIR/$s"
        assert_success
    done
}

@test "deb: lintian finds no error and no warning" {
    command -v lintian >/dev/null || { missing "lintian is not installed (make deps)"; return; }
    run timeout 300 lintian --fail-on error,warning "$DEB"
    assert_success
    refute_line --regexp '^[EW]: '
}

@test "deb: the packaged binary runs and says the package's version" {
    run "$XR/usr/bin/pushwire" --version
    assert_success
    assert_output "pushwire $(version)"
    run readelf -S "$XR/usr/bin/pushwire"
    refute_output --partial .debug_info
}

@test "deb: mkdeb.sh refuses a binary that disagrees with cmd/main.c on the version" {
    printf '#!/bin/sh\necho pushwire 0.0.0-other\n' >"$BATS_TEST_TMPDIR/fake"
    chmod +x "$BATS_TEST_TMPDIR/fake"
    run "$TOP/packaging/mkdeb.sh" "$BATS_TEST_TMPDIR/fake" "$BATS_TEST_TMPDIR/out"
    assert_failure
    assert_output --partial "says 'pushwire 0.0.0-other', cmd/main.c says '$(version)'"
    [ ! -e "$BATS_TEST_TMPDIR/out/pushwire_$(version)_$(dpkg --print-architecture).deb" ]
}

@test "deb: the same commit packs to the same bytes" {
    run "$TOP/packaging/mkdeb.sh" "$DEB_OUT/obj/pushwire" "$BATS_TEST_TMPDIR/again"
    assert_success
    cmp "$DEB" "$output"
}

@test "unit: the hardening settings, reload by SIGHUP, options from /etc/default/pushwire" {
    u=$XR/usr/lib/systemd/system/pushwire.service
    for kv in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
        PrivateTmp=yes PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
        ProtectControlGroups=yes "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" \
        RestrictNamespaces=yes LockPersonality=yes MemoryDenyWriteExecute=yes \
        SystemCallArchitectures=native CapabilityBoundingSet= LimitNOFILE=65536 \
        Restart=on-failure EnvironmentFile=-/etc/default/pushwire \
        'ExecStart=/usr/bin/pushwire serve $PUSHWIRE_ARGS' 'ExecReload=/bin/kill -HUP $MAINPID' \
        WantedBy=multi-user.target; do
        grep -qxF -- "$kv" "$u" || fail "pushwire.service lacks '$kv'"
    done
    run grep -c '^AmbientCapabilities=' "$u"
    assert_output 0
}

@test "unit: every program it runs comes with the package, an Essential package or one it Depends on (ExecReload's /bin/kill: procps)" {
    # without procps (a minbase system) 'systemctl reload pushwire' failed: /bin/kill: No such file
    deps=$(dpkg-deb -f "$DEB" Depends)
    n=0
    while IFS= read -r prog; do
        prog=${prog#*=}
        prog=${prog##[-@:+!]}
        prog=${prog%% *}
        n=$((n + 1))
        [ "$prog" != /usr/bin/pushwire ] || continue
        [ -e "$prog" ] || missing "$prog is not on this machine"
        pkg=$(dpkg -S "$prog" 2>/dev/null | head -1) || pkg=
        [ -n "$pkg" ] || pkg=$(dpkg -S "$(readlink -f "$prog")" 2>/dev/null | head -1) || pkg=
        [ -n "$pkg" ] || fail "$prog belongs to no package"
        pkg=${pkg%%:*}
        [ "$(dpkg-query -W -f '${Essential}' "$pkg")" = yes ] && continue
        [[ ", $deps," =~ ,\ $pkg[\ ,] ]] || fail "the unit runs $prog from $pkg, which is neither Essential nor in Depends: $deps"
    done < <(grep -E '^Exec[A-Za-z]*=' "$XR/usr/lib/systemd/system/pushwire.service")
    [ "$n" -ge 2 ]
}

@test "unit: every line is KEY=VALUE with a key known in its section" {
    run unit_lint "$XR/usr/lib/systemd/system/pushwire.service"
    assert_success
    assert_output ''
    # the checker itself: a typo and a stray line are caught
    printf '[Service]\nProtectKernelLog=yes\nRestart=on-failure\nRestart=always\nnonsense\n[Bogus]\n' \
        >"$BATS_TEST_TMPDIR/bad.service"
    run unit_lint "$BATS_TEST_TMPDIR/bad.service"
    assert_failure
    assert_line --partial "unknown key ProtectKernelLog in [Service]"
    assert_line --partial "Restart set twice"
    assert_line --partial "not KEY=VALUE: nonsense"
    assert_line --partial "unknown section [Bogus]"
}

@test "unit: systemd-analyze verify accepts it, its man page included" {
    command -v systemd-analyze >/dev/null || { missing "no systemd-analyze (make deps installs systemd)"; return; }
    u=$(unit_here)
    MANPATH=$XR/usr/share/man run systemd-analyze verify "$u"
    assert_success
    assert_output ''
}

@test "unit: systemd-analyze security rates its exposure 2.0 or lower" {
    command -v systemd-analyze >/dev/null || { missing "no systemd-analyze (make deps installs systemd)"; return; }
    systemd-analyze security --help 2>&1 | grep -q -- --offline || { missing "systemd-analyze security has no --offline"; return; }
    u=$(unit_here)
    run systemd-analyze security --offline=true --threshold=20 --no-pager "$u"
    assert_success
    assert_output --regexp 'Overall exposure level for pushwire\.service: [0-1]\.[0-9]|2\.0 '
}

@test "unit: the default file's PUSHWIRE_ARGS start serve" {
    # as systemd would: the value of the assignment, split at spaces (port 0
    # instead of the shipped 8080, which may be taken)
    args=$(sed -n 's/^PUSHWIRE_ARGS="\(.*\)"$/\1/p' "$XR/etc/default/pushwire")
    assert_equal "$args" "--listen 127.0.0.1:8080"
    log=$BATS_TEST_TMPDIR/serve.log
    # shellcheck disable=SC2086
    "$XR/usr/bin/pushwire" serve ${args/:8080/:0} </dev/null >/dev/null 2>"$log" &
    pid=$!
    port=$(wait_listen "$log" serve "$pid")
    run curl -sS --max-time 5 "http://127.0.0.1:$port/healthz"
    stop_pid "$pid"
    assert_output ok
}

@test "install: make install DESTDIR puts the unit in PREFIX/lib/systemd/system; uninstall removes all" {
    d=$BATS_TEST_TMPDIR/stage
    # -o pushwire: install what the suite tests, never rebuild in the tree
    run make -C "$TOP" --no-print-directory -o pushwire install DESTDIR="$d" PREFIX=/opt/pw
    assert_success
    u=$d/opt/pw/lib/systemd/system/pushwire.service
    [ -f "$u" ] || fail "no unit at $u"
    grep -qxF 'ExecStart=/opt/pw/bin/pushwire serve $PUSHWIRE_ARGS' "$u"
    run grep -c @BINDIR@ "$u"
    assert_output 0
    [ -x "$d/opt/pw/bin/pushwire" ]
    [ ! -e "$d/etc" ] || fail "make install wrote under /etc"
    run make -C "$TOP" --no-print-directory install-unit DESTDIR="$d" UNITDIR=/usr/lib/systemd/system
    assert_success
    [ -f "$d/usr/lib/systemd/system/pushwire.service" ]
    run make -C "$TOP" --no-print-directory uninstall DESTDIR="$d" PREFIX=/opt/pw
    assert_success
    run make -C "$TOP" --no-print-directory uninstall DESTDIR="$d" UNITDIR=/usr/lib/systemd/system
    assert_success
    run find "$d" -type f -o -type l
    assert_output ''
}

@test "deb: installs into a throwaway dpkg root and purges clean" {
    r=$BATS_TEST_TMPDIR/root
    mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates"
    : >"$r/var/lib/dpkg/status"
    force=--force-script-chrootless
    [ "$(id -u)" = 0 ] || force="$force,not-root"
    run dpkg --root="$r" $force --force-depends -i "$DEB"
    assert_success
    run "$r/usr/bin/pushwire" --version
    assert_output "pushwire $(version)"
    # what the service and "systemctl enable" would have left
    mkdir -p "$r/var/lib/private/pushwire" "$r/var/log/private/pushwire" \
        "$r/etc/systemd/system/multi-user.target.wants"
    ln -s /usr/lib/systemd/system/pushwire.service "$r/etc/systemd/system/multi-user.target.wants/"
    run dpkg --root="$r" $force --purge pushwire
    assert_success
    run find "$r" -path "$r/var/lib/dpkg" -prune -o \( -type f -o -type l \) -print
    assert_output ''
    [ ! -e "$r/var/lib/private/pushwire" ] && [ ! -e "$r/var/log/private/pushwire" ]
}
