#!/usr/bin/python3
# complete_pty.py SHELL COMPLETIONS_DIR LINE... — drives a real interactive
# SHELL (bash, zsh or fish) on a pseudo-terminal with pushwire's completion
# from COMPLETIONS_DIR loaded the way a user loads it (bash: source; zsh:
# fpath + compinit; fish: source), types each LINE (TABs in it complete)
# and Enter.  `pushwire` and `pushwire-APPLET` are shell functions there
# that print their arguments, so each line prints what completion made of
# it: one "ARGS:..." line per LINE on stdout.  Every wait is bounded: 20 s in
# all, then what the terminal showed goes to stderr and it fails.
import os, pty, re, select, sys, time

shell, comp, lines = sys.argv[1], sys.argv[2], sys.argv[3:]
links = "connect frame handshake portcheck replay serve".split()
if shell == "bash":
    argv = ["bash", "--norc", "--noprofile", "-i"]
    fns = "".join("%s() { echo \"ARGS:$*\"; }; " % f for f in ["pushwire"] + ["pushwire-" + l for l in links])
    setup = "PS1='$ '; bind 'set bell-style none'; source %s/pushwire.bash; %s\n" % (comp, fns)
elif shell == "zsh":
    argv = ["zsh", "-f", "-i"]
    fns = "".join("%s() { print -r -- \"ARGS:$*\" }; " % f for f in ["pushwire"] + ["pushwire-" + l for l in links])
    setup = ("PS1='$ '; unsetopt beep; fpath=(%s $fpath); autoload -Uz compinit; compinit -u -D; %s\n"
             % (comp, fns))
elif shell == "fish":
    argv = ["fish", "--no-config", "-i"]
    fns = "".join("function %s; echo ARGS:(string join ' ' -- $argv); end; " % f
                  for f in ["pushwire"] + ["pushwire-" + l for l in links])
    setup = "source %s/pushwire.fish; %s\n" % (comp, fns)
else:
    sys.exit("complete_pty.py: bash, zsh or fish")

pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "dumb"
    os.environ.pop("HISTFILE", None)
    os.execvp(argv[0], argv)

out = b""
deadline = time.monotonic() + 20
def found():
    return re.findall(rb"(?:^|\n)ARGS:([^\r\n]*)\r?\n", out)
def read_until(n):
    global out
    while len(found()) < n and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                return
            if not d:
                return
            out += d
os.write(fd, setup.encode())
for i, line in enumerate(lines):
    os.write(fd, line.encode() + b"\r")
    read_until(i + 1)   # the next line only once this one ran
os.write(fd, b"exit\r")
try:
    os.kill(pid, 9)
except OSError:
    pass
os.waitpid(pid, 0)
got = found()
for g in got:
    print("ARGS:" + g.decode("utf-8", "replace"))
if len(got) < len(lines):
    sys.stderr.write("complete_pty.py: %d of %d lines ran; the terminal showed:\n%r\n"
                     % (len(got), len(lines), out[-2000:]))
    sys.exit(1)
