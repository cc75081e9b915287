#!/usr/bin/env bash
# fwd-receive-window-limited: throughput capped by the client's small receive window.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 25) ms of delay each way (~50 ms RTT). The client sets SO_RCVBUF to LAB_RCVBUF (default
# 16384) bytes before connecting (so the window scale and the window stay small) and reads as fast
# as it can; the server sends LAB_SIZE (default 1000000) bytes with one sendall() and closes; the
# client reads to EOF and closes. The server's congestion window soon exceeds the client's
# advertised window: once per RTT the server sends exactly one window of data and waits, the
# window never falls to zero (the application empties the buffer at once).
# Knobs: LAB_DELAY_MS LAB_RCVBUF LAB_SIZE.
set -euo pipefail
export LAB_FORWARD=user
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-25} rcvbuf=${LAB_RCVBUF:-16384} size=${LAB_SIZE:-1000000}

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
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(sys.argv[2]))
s.settimeout(10)
s.connect((sys.argv[1], 8080))
s.sendall(b"GET /bulk\r\n")
t, got = time.monotonic(), 0
while True:
    d = s.recv(1 << 20)
    if not d:
        break
    got += len(d)
s.close()
t = time.monotonic() - t
print("client received %d bytes in %.2f s (%.0f kB/s), SO_RCVBUF %s" % (got, t, got / t / 1e3, sys.argv[2]))
' "$SERVER_IP" "$rcvbuf"
lab_wait_pid "$server" 10
lab_capture_stop
lab_kill "$fwd"
sed 's/^/[lab] /' "$fwd_log" >&2
