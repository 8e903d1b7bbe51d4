#!/usr/bin/python3
"""frame_python.py — Debian's python3-websockets as the other side of
`pushwire frame` (tests/interop/frame_python.bats).

  frame_python.py build OPCODE MASK HEXDATA|zeros:N [FIN]
                                                    websockets serializes a frame
  frame_python.py parse MASK < frames               websockets parses frames:
        one line per frame "OPCODE FIN HEXDATA", or "error: ..." and exit 1
"""
import sys

from websockets.exceptions import ProtocolError, PayloadTooBig
from websockets.frames import Close, Frame, Opcode
from websockets.streams import StreamReader


def build(args):
    op, mask = Opcode[args[0]], args[1] == "1"
    # "zeros:N" is N zero bytes (too long for an argument in hex)
    data = bytes(int(args[2][6:])) if args[2].startswith("zeros:") else bytes.fromhex(args[2])
    fin = len(args) < 4 or args[3] == "1"
    sys.stdout.buffer.write(Frame(op, data, fin=fin).serialize(mask=mask))


def parse(args):
    mask = args[0] == "1"
    reader = StreamReader()
    reader.feed_data(sys.stdin.buffer.read())
    reader.feed_eof()
    while reader.buffer:
        gen = Frame.parse(reader.read_exact, mask=mask, max_size=1 << 24)
        try:
            next(gen)
            print("error: truncated")
            return 1
        except StopIteration as e:
            f = e.value
        except EOFError:
            print("error: truncated")
            return 1
        except (ProtocolError, PayloadTooBig) as e:
            print("error: %s" % e)
            return 1
        # the message-level rules websockets applies to a single frame
        try:
            f.check()
            if f.opcode is Opcode.TEXT and f.fin:
                f.data.decode("utf-8")
            if f.opcode is Opcode.CLOSE:
                Close.parse(f.data)
        except (ProtocolError, UnicodeDecodeError) as e:
            print("error: %s" % e)
            return 1
        print(f.opcode.name, int(f.fin), f.data.hex())
    return 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    sys.exit(build(sys.argv[2:]) if cmd == "build" else parse(sys.argv[2:]))
