#!/usr/bin/env bash
# fwd-checksum-rejected: one segment reaches the client with a bad TCP checksum; the client's
# kernel drops it (TcpInCsumErrors), the server retransmits it and the transfer completes.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 5) ms of delay each way and flips one bit of the TCP checksum of the first segment
# whose payload contains the marker "TCPSLEUTH-CSUM" (retransmissions pass unchanged). The server
# (TCP_NODELAY) sends LAB_COUNT (default 60) writes of 1000 bytes, one every LAB_INTERVAL_MS
# (default 20) ms; write number LAB_MARK_AT (default 20, from 0) carries the marker; then it
# closes, and the client reads to EOF and closes. The captures keep whole packets (snaplen 0) so
# the checksums can be verified: the client's capture shows the corrupted segment (bad checksum),
# the server's capture shows it with a good checksum.
# Knobs: LAB_DELAY_MS LAB_COUNT LAB_INTERVAL_MS LAB_MARK_AT.
set -euo pipefail
export LAB_FORWARD=user
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-5} count=${LAB_COUNT:-60} interval=${LAB_INTERVAL_MS:-20}
mark_at=${LAB_MARK_AT:-20}
marker=TCPSLEUTH-CSUM

lab_bg "$ROUTER_NS" 90 "$LAB_PYTHON" "$LAB_DIR/forwarder.py" --client-if "$ROUTER_CIF" \
    --server-if "$ROUTER_SIF" --duration 80 --delay-ms "$delay" --corrupt-marker "$marker"
fwd=$LAB_LAST_PID fwd_log=$LAB_TMP/bg-$((${#LAB_PIDS[@]} - 1)).log

lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c '
import socket, sys, time
count, interval, mark_at, marker = int(sys.argv[1]), float(sys.argv[2]) / 1000, int(sys.argv[3]), sys.argv[4].encode()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.recv(100)
for i in range(count):
    block = bytearray(bytes([65 + i % 26]) * 1000)
    if i == mark_at:
        block[100:100 + len(marker)] = marker
    c.sendall(block)
    time.sleep(interval)
c.close()
' "$count" "$interval" "$mark_at" "$marker"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_client_exec nstat -n
lab_capture_start 0

lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.sendall(b"GET /stream\r\n")
got = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    got += len(d)
s.close()
print("client received", got)
' "$SERVER_IP"
lab_wait_pid "$server" 10
lab_capture_stop
lab_kill "$fwd"
sed 's/^/[lab] /' "$fwd_log" >&2
lab_client_exec nstat -az TcpInCsumErrors | sed -n 's/^\([A-Za-z]\+\) \+\([0-9]\+\).*/[lab] client \1=\2/p' >&2
