#!/usr/bin/env bash
# reset-close-unread: the server sends a short banner; the client sends a 1000-byte request that
# the server application never reads; LAB_IDLE_S (default 0.5) after the banner the server closes
# its socket with that data still unread, so its kernel sends RST instead of FIN (RFC 2525
# 2.17). The client's recv() fails with ECONNRESET.
# Knobs: LAB_IDLE_S (default 0.5).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
idle=${LAB_IDLE_S:-0.5}
lab_bg "$SERVER_NS" 30 "$LAB_PYTHON" -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.sendall(b"220 ready\r\n")
time.sleep(float(sys.argv[1]))
c.close()
' "$idle"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 30 "$LAB_PYTHON" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
print(s.recv(100))
s.sendall(b"POST /upload\r\n" + b"y" * 986)
try:
    d = s.recv(100)
    sys.exit("got %r instead of a reset?!" % d)
except ConnectionResetError:
    print("ECONNRESET, as expected")
' "$SERVER_IP"
lab_wait_pid "$server" 5
lab_capture_stop
