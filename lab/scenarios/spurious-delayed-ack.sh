#!/usr/bin/env bash
# spurious-delayed-ack: request/response with a small client RTO. The client's route to the
# server has rto_min 5ms (ip route change ... rto_min 5ms in the client namespace); the server
# answers each 100-byte request after LAB_THINK_MS (default 30) ms of think time. From the second
# exchange on the server's stack is in interactive (pingpong) mode and delays its ACK (>= 40 ms),
# so the ACK only comes with the response; the client's retransmission timer (~15 ms here: rto_min
# plus timer granularity) fires first and the request is retransmitted although it was not lost;
# the server D-SACKs the duplicate at once. That D-SACK's timestamp echo gives the client a tiny RTT
# sample, so its RTO stays small and the pattern repeats on every exchange. A think time close to
# the RTO (e.g. 15 ms) makes the response race the retransmission; once the response wins, the RTT
# sample (= think time) lifts the RTO above the think time and the retransmissions stop. LAB_EXCHANGES
# (default 15) exchanges, then a normal close.
# Knobs: LAB_THINK_MS (default 30), LAB_EXCHANGES (default 15), LAB_RTO_MIN (default 5ms).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
think=${LAB_THINK_MS:-30} exchanges=${LAB_EXCHANGES:-15} rto_min=${LAB_RTO_MIN:-5ms}
lab_client_exec ip route change "$SERVER_NET" via "$ROUTER_CIP" dev "$CLIENT_IF" rto_min "$rto_min"
lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c '
import socket, sys, time
think = float(sys.argv[1]) / 1000
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
buf = b""
while True:
    d = c.recv(1000)
    if not d:
        break
    buf += d
    while len(buf) >= 100:
        buf = buf[100:]
        time.sleep(think)
        c.sendall(b"r" * 300)
c.close()
' "$think"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i in range(int(sys.argv[2])):
    s.sendall(b"q" * 100)
    got = 0
    while got < 300:
        got += len(s.recv(1000))
    time.sleep(0.02)
s.close()
print("done")
' "$SERVER_IP" "$exchanges"
lab_wait_pid "$server" 5
lab_capture_stop
