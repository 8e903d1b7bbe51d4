#!/usr/bin/python3
"""Ctrl-C in a shell loop: sigint_loop.py PORT COMMAND...

Runs `for i in 1 2 3; do COMMAND; echo "rc=$? after $i"; done` in bash, in
a session of its own with SIGINT at its default (as a terminal's foreground
job has it), waits (10 s at most) until the pushwire server on PORT shows
one WebSocket connection, sends SIGINT to the whole process group (what
Ctrl-C does), and waits (10 s at most) for bash.  Prints what the loop
printed, then "bash: killed by SIGINT", "bash: exit N" or "bash: still
running" (then it is killed)."""
import os
import signal
import subprocess
import sys
import time
import urllib.request

port, cmd = sys.argv[1], sys.argv[2:]


def default_signals():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


loop = 'for i in 1 2 3; do "$@"; echo "rc=$? after $i"; done'
p = subprocess.Popen(["bash", "-c", loop, "bash"] + cmd, stdin=subprocess.DEVNULL,
                     stdout=subprocess.PIPE, preexec_fn=default_signals, start_new_session=True)
want = 'pushwire_connections{transport="ws"} 1'
for _ in range(100):
    with urllib.request.urlopen("http://127.0.0.1:%s/metrics" % port, timeout=5) as r:
        if want in r.read().decode().splitlines():
            break
    time.sleep(0.1)
else:
    print("never connected")
os.killpg(p.pid, signal.SIGINT)
try:
    out, _ = p.communicate(timeout=10)
    st = "killed by SIGINT" if p.returncode == -signal.SIGINT else "exit %d" % p.returncode
except subprocess.TimeoutExpired:
    os.killpg(p.pid, signal.SIGKILL)
    out, _ = p.communicate()
    st = "still running"
sys.stdout.write(out.decode(errors="replace"))
print("bash:", st)
