#!/usr/bin/env python3
"""stream_server.py: a lab server that sends data. Standard library only.

Accepts one connection on --port (default 8080), reads the request (one recv of at most 100
bytes), then writes: --size bytes in total, or --count writes, or writes for --duration seconds,
each write --write bytes (default: the whole --size in one sendall), sleeping --interval-ms after
every write; then closes (FIN). A write that fails (reset by the peer or a middlebox) ends the
program with a message, not a traceback.

Content (--fill): `range` (default) the bytes 0, 1, ..., 255 repeated over the whole stream;
`letters` write i is all one letter, chr(65 + i % 26) (A, B, C ...); any single character: the
stream is that character. --marker TEXT --mark-at I --mark-offset O writes TEXT at offset O of
write I (counted from 0), so that a middlebox can match that one segment.

Examples (lab/scenarios):
  stream_server.py --size 1000000 --write 65536          healthy-bulk: 64 KB writes, FIN
  stream_server.py --count 400 --write 4000 --interval-ms 50 --fill letters --nodelay \
      --marker TCPSLEUTH-STALL --mark-at 20 --mark-offset 1600     stall-then-reset
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in lab/programs/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labtcp  # noqa: E402

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--port", type=int, default=8080)
p.add_argument("--size", type=int, help="bytes to send in total")
p.add_argument("--count", type=int, help="number of writes")
p.add_argument("--duration", type=float, help="keep writing for this many seconds")
p.add_argument("--write", type=int, default=0, help="bytes per write (default: all of --size)")
p.add_argument("--interval-ms", type=float, default=0, help="sleep after every write")
p.add_argument("--fill", default="range", help="range | letters | one character")
p.add_argument("--nodelay", action="store_true", help="TCP_NODELAY on the connection")
p.add_argument("--marker", help="text written into write --mark-at at --mark-offset")
p.add_argument("--mark-at", type=int, default=0)
p.add_argument("--mark-offset", type=int, default=0)
a = p.parse_args()
if a.size is None and a.count is None and a.duration is None:
    p.error("one of --size, --count, --duration is needed")
if a.write <= 0 and a.size is None:
    p.error("--write is needed with --count or --duration")
if a.fill not in ("range", "letters") and len(a.fill) != 1:
    p.error("--fill: range, letters or a single character")


def block(i, offset, n):
    """Write number i, which starts at stream offset `offset` and is n bytes long."""
    if a.fill == "range":
        data = bytes(range(256)) * (n // 256 + 2)
        data = bytearray(data[offset % 256:offset % 256 + n])
    elif a.fill == "letters":
        data = bytearray(bytes([65 + i % 26]) * n)
    else:
        data = bytearray(a.fill.encode() * n)
    if a.marker is not None and i == a.mark_at:
        m = a.marker.encode()
        data[a.mark_offset:a.mark_offset + len(m)] = m
    return data


s = labtcp.listen(a.port)
c, _ = s.accept()
if a.nodelay:
    c.setsockopt(labtcp.socket.IPPROTO_TCP, labtcp.socket.TCP_NODELAY, 1)
c.recv(100)
end = time.monotonic() + a.duration if a.duration is not None else None
sent = i = 0
try:
    while True:
        if a.count is not None and i >= a.count:
            break
        if a.size is not None and sent >= a.size:
            break
        if end is not None and time.monotonic() >= end:
            break
        n = a.write if a.write > 0 else a.size - sent
        if a.size is not None:
            n = min(n, a.size - sent)
        c.sendall(block(i, sent, n))
        sent += n
        i += 1
        if a.interval_ms:
            time.sleep(a.interval_ms / 1000)
    labtcp.say("server", "sent", sent, "bytes in", i, "writes")
except OSError as e:
    labtcp.say("server", "sent", sent, "bytes in", i, "writes, then:", e)
c.close()
