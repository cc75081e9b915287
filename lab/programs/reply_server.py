#!/usr/bin/env python3
"""reply_server.py: a lab request/response server. Standard library only.

Accepts --connections connections (default 1; each served in its own thread) on --port (default
8080, listen backlog --backlog, default 1). For each connection: optional socket timeout
(--timeout S); sends --banner at once if given; then answers requests with --reply: a request is
whatever one recv(--recv-size, default 100) returns, or, with --request-size N, every N bytes
(buffered); each answer waits --think-ms first. It answers --requests N requests (default: every
request until the client closes; 0: it never reads). Then it waits --idle S seconds and ends the
connection (--then): `close` (default; FIN, or RST if unread data remains), `abort` (SO_LINGER
{1, 0} + close: RST) or `drain` (read until the client closes or the timeout, then close).
TEXT arguments (--banner, --reply) take backslash escapes and {N*C} (C repeated N times).

Examples (lab/scenarios):
  reply_server.py --reply '200 OK {1993*x}\\n' --requests 1 --idle 1 --then abort   reset-abort
  reply_server.py --banner '220 ready\\r\\n' --requests 0 --idle 0.5                   reset-close-unread
"""
import argparse
import os
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in lab/programs/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labtcp  # noqa: E402

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--port", type=int, default=8080)
p.add_argument("--backlog", type=int, default=1)
p.add_argument("--connections", type=int, default=1)
p.add_argument("--timeout", type=float, help="socket timeout of each connection (s)")
p.add_argument("--banner", help="TEXT sent when the connection is accepted")
p.add_argument("--reply", help="TEXT sent for each request")
p.add_argument("--requests", type=int, help="answer this many requests (default: all)")
p.add_argument("--request-size", type=int, default=0, help="requests are this many bytes")
p.add_argument("--recv-size", type=int, default=100)
p.add_argument("--think-ms", type=float, default=0)
p.add_argument("--idle", type=float, default=0, help="seconds to wait before --then")
p.add_argument("--then", choices=("close", "abort", "drain"), default="close")
a = p.parse_args()
banner = labtcp.text(a.banner) if a.banner is not None else None
reply = labtcp.text(a.reply) if a.reply is not None else None


def more(answered):
    return a.requests is None or answered < a.requests


def answer(c):
    if a.think_ms:
        time.sleep(a.think_ms / 1000)
    if reply is not None:
        c.sendall(reply)


def serve(c, n):
    if a.timeout is not None:
        c.settimeout(a.timeout)
    answered = 0
    try:
        if banner is not None:
            c.sendall(banner)
        buf = b""
        while more(answered):
            d = c.recv(a.recv_size)
            if not d:
                break
            if a.request_size:
                buf += d
                while len(buf) >= a.request_size and more(answered):
                    buf = buf[a.request_size:]
                    answer(c)
                    answered += 1
            else:
                answer(c)
                answered += 1
        if a.idle:
            time.sleep(a.idle)
        if a.then == "drain":
            while c.recv(a.recv_size):
                pass
        if a.then == "abort":
            labtcp.abort(c)
        else:
            c.close()
        labtcp.say("server", "connection", n, "answered", answered, "requests, then", a.then)
    except OSError as e:
        labtcp.say("server", "connection", n, "answered", answered, "requests, then:", e)
        c.close()


s = labtcp.listen(a.port, a.backlog)
threads = []
for n in range(a.connections):
    c, _ = s.accept()
    t = threading.Thread(target=serve, args=(c, n))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
