#!/usr/bin/env bash
# stall-then-reset: the server streams 4000-byte writes (TCP_NODELAY: 3 segments of 1448, 1448,
# 1104 bytes) every 50 ms; write number LAB_MARK_AT (default 20) carries the marker
# "TCPSLEUTH-STALL" at offset 1600, i.e. inside its second segment. The router
# drops every packet that contains the marker (iptables -m string in FORWARD), i.e. that segment
# and all its retransmissions. The client's ACK stays stuck below it while later segments arrive
# (duplicate ACKs with SACK), the server retransmits the segment with RTO backoff; LAB_GIVEUP_S
# (default 6) seconds after the last data it could read, the client application aborts
# (SO_LINGER {1, 0} + close() -> RST).
# Knobs: LAB_MARK_AT (default 20), LAB_GIVEUP_S (default 6), LAB_INTERVAL_MS (default 50).
# LAB_STALL_DROP=router (default) or client-input: receiver-rejects-then-resets.sh runs this
# script with client-input, which drops the marked segments in the client's INPUT chain instead.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
mark_at=${LAB_MARK_AT:-20} giveup=${LAB_GIVEUP_S:-6} interval=${LAB_INTERVAL_MS:-50}
marker=TCPSLEUTH-STALL
case "${LAB_STALL_DROP:-router}" in
    router)
        lab_router_exec iptables -A FORWARD -p tcp -s "$SERVER_IP" --sport 8080 \
            -m string --algo bm --string "$marker" -j DROP ;;
    client-input)
        lab_client_exec iptables -A INPUT -p tcp -s "$SERVER_IP" --sport 8080 \
            -m string --algo bm --string "$marker" -j DROP ;;
    *) lab_die "LAB_STALL_DROP must be router or client-input" ;;
esac

read -r -d '' SERVER_PY <<'PY' || true
import socket, sys, time
mark_at, interval, marker = int(sys.argv[1]), float(sys.argv[2]) / 1000, sys.argv[3].encode()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.recv(100)
try:
    for i in range(400):
        block = bytearray(bytes([65 + i % 26]) * 4000)
        if i == mark_at:
            block[1600:1600 + len(marker)] = marker
        c.sendall(block)
        time.sleep(interval)
except OSError as e:
    print("server:", e)
PY
lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c "$SERVER_PY" "$mark_at" "$interval" "$marker"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start

lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, struct, sys
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
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("client read", got, "bytes, then aborted")
' "$SERVER_IP" "$giveup"
lab_wait_pid "$server" 5 || true
lab_capture_stop
