#!/usr/bin/env python3
"""client.py: the lab's client; runs a list of STEPs against HOST. Standard library only.

  client.py [options] HOST STEP...

Options (socket setup, applied at every connect, in this order):
  --port P          server port (default 8080)
  --rcvbuf N        SO_RCVBUF before connecting (small values keep the window scale and window small)
  --keepalive I:V:C SO_KEEPALIVE with TCP_KEEPIDLE=I, TCP_KEEPINTVL=V, TCP_KEEPCNT=C
  --bind-port P     SO_REUSEADDR and bind to source port P
  --timeout S       socket timeout (connect and every read; default: blocking)
  --nodelay         TCP_NODELAY once connected
Options (reading):
  --recv-size N     bytes asked of each recv() (default 65536)
  --read-pause-ms M sleep M ms after every recv() that returned data (a slow reader)

Steps:
  connect           open a connection (a later connect replaces the current one)
  refused           connect, which must fail with ECONNREFUSED
  unanswered        connect, which must time out (--timeout)
  send:TEXT         one sendall(); TEXT takes backslash escapes and {N*C} (C repeated N times)
  line              read until the data ends with a newline
  read:N            read exactly N bytes, then stop reading
  eof[:N]           read until the server closes (exactly N bytes in all if N is given)
  idle:S            read until S seconds pass without data (the server closing is an error)
  reset             read until the connection is reset (ECONNRESET; the server closing is an error)
  sleep:S           wait S seconds
  close             close() normally (FIN)
  abort             SO_LINGER {1, 0} + close(): RST
An unexpected outcome ends the program with status 1 and a message.

Examples (lab/scenarios):
  client.py 10.88.2.2 connect 'send:GET /bulk\\r\\n' eof close                  healthy-bulk
  client.py --timeout 5 10.88.2.2 connect 'send:GET /stream\\r\\n' idle:6 abort stall-then-reset
"""
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in lab/programs/
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import labtcp  # noqa: E402

USAGE = "usage: client.py [options] HOST STEP... (see the top of lab/programs/client.py)"


def parse(argv):
    opts = {"port": 8080, "rcvbuf": None, "keepalive": None, "bind_port": None,
            "timeout": None, "nodelay": False, "recv_size": 65536, "read_pause_ms": 0}
    kinds = {"port": int, "rcvbuf": int, "keepalive": str, "bind_port": int, "timeout": float,
             "recv_size": int, "read_pause_ms": float}
    args = list(argv)
    while args and args[0].startswith("--"):
        name = args.pop(0)[2:].replace("-", "_")
        if name == "nodelay":
            opts["nodelay"] = True
        elif name in kinds and args:
            opts[name] = kinds[name](args.pop(0))
        else:
            sys.exit(USAGE)
    if len(args) < 2:
        sys.exit(USAGE)
    return opts, args[0], args[1:]


class Client:
    def __init__(self, opts, host):
        self.o, self.host, self.s = opts, host, None
        self.t0 = time.monotonic()
        self.notes = []

    def note(self, *words):
        self.notes.append("%s (%.2f s)" % (" ".join(str(w) for w in words),
                                           time.monotonic() - self.t0))

    def fail(self, message):
        labtcp.die("client", "; ".join(self.notes + [message]))

    def new_socket(self):
        o = self.o
        s = socket.socket()
        if o["rcvbuf"] is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, o["rcvbuf"])
        if o["keepalive"] is not None:
            idle, intvl, cnt = (int(x) for x in o["keepalive"].split(":"))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)
        if o["bind_port"] is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", o["bind_port"]))
        if o["timeout"] is not None:
            s.settimeout(o["timeout"])
        return s

    def connect(self, expect="ok"):
        s = self.new_socket()
        t = time.monotonic()
        try:
            s.connect((self.host, self.o["port"]))
        except ConnectionRefusedError:
            if expect != "refused":
                self.fail("connect refused")
            self.note("connect refused, as expected")
            return
        except socket.timeout:
            if expect != "timeout":
                self.fail("connect timed out")
            self.note("connect timed out, as expected")
            return
        if expect != "ok":
            self.fail("connected?!")
        if self.o["nodelay"]:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = s
        self.note("connected in %.3f s" % (time.monotonic() - t))

    def recv(self, size=None):
        d = self.s.recv(size or self.o["recv_size"])
        if d and self.o["read_pause_ms"]:
            time.sleep(self.o["read_pause_ms"] / 1000)
        return d

    def read_until(self, error, what):
        """Read until recv() raises `error`; returns the bytes read. EOF is a failure."""
        got = 0
        try:
            while True:
                d = self.recv()
                if not d:
                    self.fail("EOF after %d bytes instead of %s?!" % (got, what))
                got += len(d)
        except error:
            return got

    def step(self, step):
        name, _, arg = step.partition(":")
        if name == "connect":
            self.connect()
        elif name == "refused":
            self.connect("refused")
        elif name == "unanswered":
            self.connect("timeout")
        elif name == "send":
            self.s.sendall(labtcp.text(arg))
        elif name == "line":
            got = b""
            while not got.endswith(b"\n"):
                d = self.recv()
                if not d:
                    self.fail("EOF before a whole line")
                got += d
        elif name == "read":
            want, got = int(arg), 0
            while got < want:
                d = self.recv(min(self.o["recv_size"], want - got))
                if not d:
                    self.fail("EOF after %d of %d bytes" % (got, want))
                got += len(d)
        elif name == "eof":
            got = 0
            while True:
                d = self.recv()
                if not d:
                    break
                got += len(d)
            self.note("received", got, "bytes to EOF")
            if arg and got != int(arg):
                self.fail("short transfer: %d of %s bytes" % (got, arg))
        elif name == "idle":
            self.s.settimeout(float(arg))
            got = self.read_until(socket.timeout, "a pause")
            self.s.settimeout(self.o["timeout"])
            self.note("read", got, "bytes, then nothing for", arg, "s")
        elif name == "reset":
            got = self.read_until(ConnectionResetError, "a reset")
            self.note("read", got, "bytes, then ECONNRESET, as expected")
        elif name == "sleep":
            time.sleep(float(arg))
        elif name == "close":
            self.s.close()
            self.note("closed")
        elif name == "abort":
            labtcp.abort(self.s)
            self.note("aborted")
        else:
            sys.exit("client: unknown step %r\n%s" % (step, USAGE))


def main():
    opts, host, steps = parse(sys.argv[1:])
    c = Client(opts, host)
    for step in steps:
        c.step(step)
    labtcp.say("client", "; ".join(c.notes))


main()
