#!/usr/bin/env bash
# fwd-loss-long-path: random loss on a long path, repaired by retransmission.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 50) ms of delay each way (~100 ms RTT) and drops LAB_LOSS_PERMILLE (default 15, i.e.
# 1.5 %) of the data segments going LAB_DROP_DIR (default s2c: the server's data), drawn from a
# random generator seeded with LAB_SEED (default 3): the same seed drops the same ordinal
# segments. Only segments with payload are dropped (handshake, FIN and ACKs pass). The client
# downloads LAB_SIZE (default 1000000) bytes; the server closes after sending, the client reads
# to EOF and closes. The server repairs every loss (SACK recovery / RACK, RTO for tail losses).
# Knobs: LAB_DELAY_MS LAB_LOSS_PERMILLE LAB_DROP_DIR (s2c | c2s | both) LAB_SEED LAB_SIZE.
set -euo pipefail
export LAB_FORWARD=user
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-50} loss=${LAB_LOSS_PERMILLE:-15} dir=${LAB_DROP_DIR:-s2c}
seed=${LAB_SEED:-3} size=${LAB_SIZE:-1000000}

lab_bg "$ROUTER_NS" 90 "$LAB_PYTHON" "$LAB_DIR/forwarder.py" --client-if "$ROUTER_CIF" \
    --server-if "$ROUTER_SIF" --duration 80 --delay-ms "$delay" --drop-permille "$loss" \
    --drop-dir "$dir" --seed "$seed"
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
import socket, sys, time
t = time.monotonic()
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.sendall(b"GET /bulk\r\n")
got = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    got += len(d)
s.close()
print("client received %d bytes in %.2f s" % (got, time.monotonic() - t))
' "$SERVER_IP"
lab_wait_pid "$server" 10
lab_capture_stop
lab_kill "$fwd"
sed 's/^/[lab] /' "$fwd_log" >&2
lab_server_exec nstat -az TcpRetransSegs TcpExtTCPFastRetrans TcpExtTCPTimeouts TcpExtTCPLossProbes \
    TcpExtTCPDSACKRecv TcpExtTCPSpuriousRTOs | sed -n 's/^\([A-Za-z]\+\) \+\([0-9]\+\).*/[lab] server \1=\2/p' >&2
