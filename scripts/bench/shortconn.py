#!/usr/bin/env python3
"""shortconn.py: short request/response connections for the benchmark capture (stdlib only).

  shortconn.py server [--port 8080] [--reply-size 1500] [--duration S]
      accepts connections (one thread each): reads one request (up to 200 bytes), sends
      --reply-size bytes, reads until the client closes, closes. Exits after --duration seconds.
  shortconn.py client HOST [--port 8080] [--count N] [--duration S] [--rate R] [--stop-file F]
      makes at most --count sequential connections (at most --rate per second, 0 = no limit)
      for at most --duration seconds, or until --stop-file exists: connect, send a 100-byte
      request, read the whole reply, close (the client closes first). Prints the counts.
"""
import argparse
import os
import socket
import sys
import threading
import time


def serve(args):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", args.port))
    ls.listen(1024)
    ls.settimeout(0.5)
    reply = b"x" * (args.reply_size - 1) + b"\n"
    deadline = time.monotonic() + args.duration

    def handle(conn):
        try:
            conn.settimeout(10)
            if conn.recv(200):
                conn.sendall(reply)
                while conn.recv(4096):
                    pass
        except OSError:
            pass
        finally:
            conn.close()

    while time.monotonic() < deadline:
        try:
            conn, _ = ls.accept()
        except socket.timeout:
            continue
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def client(args):
    request = b"GET /short HTTP/1.0\r\n" + b"X" * 76 + b"\r\n\r\n"  # 100 bytes
    deadline = time.monotonic() + args.duration
    ok = failed = 0
    start = time.monotonic()
    for i in range(args.count):
        if time.monotonic() >= deadline or (args.stop_file and os.path.exists(args.stop_file)):
            break
        if args.rate > 0:
            due = start + i / args.rate
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
        try:
            with socket.create_connection((args.host, args.port), timeout=10) as s:
                s.sendall(request)
                got = 0
                while got < args.reply_size:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += len(chunk)
            ok += 1
        except OSError:
            failed += 1
    print(f"shortconn client: {ok} connections ok, {failed} failed", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=("server", "client"))
    p.add_argument("host", nargs="?", default="10.99.2.2")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--reply-size", type=int, default=1500)
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--duration", type=float, default=600)
    p.add_argument("--rate", type=float, default=0)
    p.add_argument("--stop-file")
    args = p.parse_args()
    serve(args) if args.mode == "server" else client(args)


if __name__ == "__main__":
    main()
