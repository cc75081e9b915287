#!/usr/bin/env bash
# fwd-healthy-long-path: a healthy download over a long path; nothing goes wrong.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 40) ms of delay each way (~80 ms RTT) and nothing else. The client downloads LAB_SIZE
# (default 800000) bytes; the server closes after sending (FIN), the client reads to EOF and
# closes (FIN). Slow start takes several RTTs; no loss, no reordering, no window limit (the
# client's receive buffer autotunes).
# Knobs: LAB_DELAY_MS LAB_SIZE.
set -euo pipefail
export LAB_FORWARD=user
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-40} size=${LAB_SIZE:-800000}

lab_bg "$ROUTER_NS" 90 "$LAB_PYTHON" "$LAB_DIR/forwarder.py" --client-if "$ROUTER_CIF" \
    --server-if "$ROUTER_SIF" --duration 80 --delay-ms "$delay"
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
lab_server_exec nstat -az TcpRetransSegs TcpExtTCPLossProbes | sed -n 's/^\([A-Za-z]\+\) \+\([0-9]\+\).*/[lab] server \1=\2/p' >&2
