#!/usr/bin/env bash
# reset-abort: a small request/response works, the client then waits for more; LAB_IDLE_S (default
# 1) later the server application aborts the connection: SO_LINGER {1, 0} then close() makes its
# kernel send a RST. The client's recv() fails with ECONNRESET. Nothing is lost anywhere.
# Knobs: LAB_IDLE_S (seconds between the response and the abort, default 1).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
idle=${LAB_IDLE_S:-1}
lab_bg "$SERVER_NS" 30 "$LAB_PYTHON" -c '
import socket, struct, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.recv(100)
c.sendall(b"200 OK " + b"x" * 1993 + b"\n")
time.sleep(float(sys.argv[1]))
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
' "$idle"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 30 "$LAB_PYTHON" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.sendall(b"GET /small\r\n")
got = 0
try:
    while True:
        d = s.recv(4096)
        if not d:
            sys.exit("EOF instead of a reset?!")
        got += len(d)
except ConnectionResetError:
    print("received", got, "then ECONNRESET, as expected")
' "$SERVER_IP"
lab_wait_pid "$server" 5
lab_capture_stop
