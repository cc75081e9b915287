"""Helpers shared by the lab's client and server programs (Python standard library only).

Imported by the programs next to this file (python puts the script's directory first on
sys.path); never run by itself.
"""
import codecs
import re
import socket
import struct
import sys


def text(spec):
    """The bytes of a TEXT argument: backslash escapes (\\r, \\n, \\t, \\xHH) are decoded and
    {N*C} stands for the character C repeated N times, e.g. '200 OK {493*x}\\n' is 501 bytes and
    '{100*q}' is 100 bytes of q."""
    expanded = re.sub(r"\{(\d+)\*(.)\}", lambda m: m.group(2) * int(m.group(1)), spec)
    return codecs.decode(expanded, "unicode_escape").encode("latin-1")


def listen(port, backlog=1):
    """A listening TCP socket on 0.0.0.0:port (SO_REUSEADDR)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(backlog)
    return s


def abort(sock):
    """Close with SO_LINGER {1, 0}: the kernel sends a RST instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def say(who, *words):
    print(who + ":", *words, flush=True)


def die(who, message):
    sys.exit("%s: %s" % (who, message))
