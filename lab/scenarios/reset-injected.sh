#!/usr/bin/env bash
# reset-injected: the server streams 4000-byte writes every 50 ms; write LAB_MARK_AT (default
# 10) carries the marker "TCPSLEUTH-INJECT". The router matches it (iptables -m string in FORWARD)
# with -j REJECT --reject-with tcp-reset: the marked segment is dropped and the router sends a RST
# to the server (the sender of the matched packet) with its own TTL (64, where the client's
# packets arrive with 63), IP ID 0 and no ACK flag. The server's stack accepts it and its
# application gets ECONNRESET. The client never sees that RST: its stream simply stops; the client
# application waits LAB_GIVEUP_S (default 3) seconds, then closes normally (FIN), and the server's
# kernel, which no longer knows the connection, answers the FIN with a RST of its own.
# Knobs: LAB_MARK_AT (default 10), LAB_GIVEUP_S (default 3).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
mark_at=${LAB_MARK_AT:-10} giveup=${LAB_GIVEUP_S:-3}
marker=TCPSLEUTH-INJECT
lab_router_exec iptables -A FORWARD -p tcp -s "$SERVER_IP" --sport 8080 \
    -m string --algo bm --string "$marker" -j REJECT --reject-with tcp-reset

read -r -d '' SERVER_PY <<'PY' || true
import socket, sys, time
mark_at, marker = int(sys.argv[1]), sys.argv[2].encode()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.recv(100)
try:
    for i in range(200):
        block = bytearray(bytes([65 + i % 26]) * 4000)
        if i == mark_at:
            block[1600:1600 + len(marker)] = marker
        c.sendall(block)
        time.sleep(0.05)
    print("server: no reset?!")
except OSError as e:
    print("server:", e)
PY
lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c "$SERVER_PY" "$mark_at" "$marker"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 8080), timeout=5)
s.sendall(b"GET /stream\r\n")
s.settimeout(float(sys.argv[2]))
got = 0
try:
    while True:
        d = s.recv(65536)
        if not d:
            sys.exit("EOF?!")
        got += len(d)
except socket.timeout:
    pass
s.close()
print("client read", got, "bytes, stream stopped; closed normally")
time.sleep(0.5)
' "$SERVER_IP" "$giveup"
lab_wait_pid "$server" 5 || true
lab_capture_stop
