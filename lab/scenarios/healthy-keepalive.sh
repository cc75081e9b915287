#!/usr/bin/env bash
# healthy-keepalive: the client enables SO_KEEPALIVE with TCP_KEEPIDLE=1, TCP_KEEPINTVL=1,
# TCP_KEEPCNT=5, makes a small request/response, stays idle LAB_IDLE_S seconds (default 5) while
# its kernel sends a keep-alive every second (seq = SND.NXT - 1, no data) that the server's kernel
# ACKs, then makes a second request/response and closes normally (FIN both ways).
# Knobs: LAB_IDLE_S (default 5).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
idle=${LAB_IDLE_S:-5}
lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
while True:
    d = c.recv(100)
    if not d:
        break
    c.sendall(b"200 OK " + b"k" * 200 + b"\n")
c.close()
'
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 5)
s.settimeout(10)
s.connect((sys.argv[1], 8080))
def ask(what):
    s.sendall(what)
    got = b""
    while not got.endswith(b"\n"):
        got += s.recv(1000)
ask(b"GET /first\r\n")
time.sleep(float(sys.argv[2]))
ask(b"GET /second\r\n")
s.close()
print("two exchanges around an idle period")
' "$SERVER_IP" "$idle"
lab_wait_pid "$server" 5
lab_capture_stop
