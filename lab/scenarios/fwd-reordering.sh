#!/usr/bin/env bash
# fwd-reordering: segments arrive out of order, nothing is lost or retransmitted.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 10) ms of delay each way (~20 ms RTT) and holds back every LAB_EVERY-th (default 50th)
# data segment from the server for LAB_HOLD_MS (default 3) ms or until LAB_HOLD_PKTS (default 2)
# later segments have overtaken it, whichever comes first. The client downloads LAB_SIZE (default
# 1000000) bytes; the server closes after sending, the client reads to EOF and closes.
# The displacement is kept below what makes Linux retransmit: fewer than 3 segments overtake
# (DupThresh) and the hold is shorter than RACK's reordering window (min_RTT/4 = 5 ms here), so
# the sender only sees duplicate ACKs with SACK blocks that are filled a moment later.
# Knobs: LAB_DELAY_MS LAB_EVERY LAB_HOLD_MS LAB_HOLD_PKTS LAB_SIZE.
set -euo pipefail
export LAB_FORWARD=user
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-10} every=${LAB_EVERY:-50} hold_ms=${LAB_HOLD_MS:-3}
hold_pkts=${LAB_HOLD_PKTS:-2} size=${LAB_SIZE:-1000000}

lab_bg "$ROUTER_NS" 90 "$LAB_PYTHON" "$LAB_DIR/forwarder.py" --client-if "$ROUTER_CIF" \
    --server-if "$ROUTER_SIF" --duration 80 --delay-ms "$delay" --reorder-every "$every" \
    --reorder-dir s2c --reorder-hold-ms "$hold_ms" --reorder-hold-pkts "$hold_pkts"
fwd=$LAB_LAST_PID fwd_log=$LAB_TMP/bg-$((${#LAB_PIDS[@]} - 1)).log

lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c '
import socket, sys
size = int(sys.argv[1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.recv(100)
block = bytes(range(256)) * (size // 256 + 1)
c.sendall(block[:size])
c.close()
' "$size"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start

lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.sendall(b"GET /bulk\r\n")
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
grep -v ' hold ' "$fwd_log" | sed 's/^/[lab] /' >&2
lab_server_exec nstat -az TcpRetransSegs TcpExtTCPSACKReorder | sed -n 's/^\([A-Za-z]\+\) \+\([0-9]\+\).*/[lab] server \1=\2/p' >&2
