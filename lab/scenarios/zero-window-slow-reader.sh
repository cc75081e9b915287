#!/usr/bin/env bash
# zero-window-slow-reader: the client sets SO_RCVBUF to LAB_RCVBUF (default 4096) before
# connecting and reads LAB_CHUNK bytes (default 2048) every LAB_READ_MS ms (default 80). The
# server sends LAB_SIZE bytes (default 65536) as fast as it can, then closes. The client's window
# closes to zero and reopens (window updates) again and again; the transfer completes and both
# ends close normally (FIN).
# Knobs: LAB_RCVBUF (4096), LAB_CHUNK (2048), LAB_READ_MS (80), LAB_SIZE (65536), LAB_TLP (0).
# The server runs with net.ipv4.tcp_early_retrans=0 (no tail-loss probe) unless LAB_TLP=1: on this
# sub-millisecond path the ACK that closes a tiny window is delayed ~40 ms and the TLP fires first,
# adding a spurious (D-SACKed) retransmission in some runs and not in others.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
[ "${LAB_TLP:-0}" = 1 ] || lab_sysctl "$SERVER_NS" net.ipv4.tcp_early_retrans=0
rcvbuf=${LAB_RCVBUF:-4096} chunk=${LAB_CHUNK:-2048} read_ms=${LAB_READ_MS:-80} size=${LAB_SIZE:-65536}
lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.recv(100)
c.sendall(b"s" * int(sys.argv[1]))
c.close()
' "$size"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(sys.argv[2]))
s.settimeout(10)
s.connect((sys.argv[1], 8080))
s.sendall(b"GET /stream\r\n")
chunk, pause, got = int(sys.argv[3]), float(sys.argv[4]) / 1000, 0
while True:
    d = s.recv(chunk)
    if not d:
        break
    got += len(d)
    time.sleep(pause)
s.close()
if got != int(sys.argv[5]):
    sys.exit("short transfer: %d" % got)
print("client read", got, "bytes slowly")
' "$SERVER_IP" "$rcvbuf" "$chunk" "$read_ms" "$size"
lab_wait_pid "$server" 5 || true
lab_capture_stop
