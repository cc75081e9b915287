#!/usr/bin/env bash
# zero-window-not-reading: the client sets SO_RCVBUF to LAB_RCVBUF (default 4096) before
# connecting, asks for a stream, reads the first 1000 bytes and then never reads again. The server
# writes until its send buffer is full; the client's window drops to zero and stays there, the
# server's zero-window probes (seq = SND.UNA - 1, tshark says "TCP Keep-Alive") are answered
# with window 0. LAB_HOLD_S (default 7) seconds later the client application aborts
# (SO_LINGER {1, 0} + close() -> RST).
# Knobs: LAB_RCVBUF (default 4096), LAB_HOLD_S (default 7), LAB_TLP (default 0).
# The server runs with net.ipv4.tcp_early_retrans=0 (no tail-loss probe) unless LAB_TLP=1: on this
# sub-millisecond path the ACK that closes a tiny window is delayed ~40 ms and the TLP fires first,
# adding a spurious (D-SACKed) retransmission in some runs and not in others.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
[ "${LAB_TLP:-0}" = 1 ] || lab_sysctl "$SERVER_NS" net.ipv4.tcp_early_retrans=0
rcvbuf=${LAB_RCVBUF:-4096} hold=${LAB_HOLD_S:-7}
lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.recv(100)
block = b"z" * 16384
try:
    for i in range(64):
        c.sendall(block)
    print("server: sent everything?!")
except OSError as e:
    print("server:", e)
'
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, struct, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(sys.argv[2]))
s.settimeout(5)
s.connect((sys.argv[1], 8080))
s.sendall(b"GET /stream\r\n")
got = 0
while got < 1000:
    got += len(s.recv(1000 - got))
time.sleep(float(sys.argv[3]))
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("client read", got, "bytes, stopped reading, aborted")
' "$SERVER_IP" "$rcvbuf" "$hold"
lab_wait_pid "$server" 5 || true
lab_capture_stop
