#!/usr/bin/env bash
# loss-random: the client downloads LAB_SIZE bytes (default 1500000); the router drops data
# segments from the server at random (nft: numgen random mod 1000 < LAB_LOSS_PERMILLE, default
# 20 = 2 %; only packets longer than 100 bytes, so the handshake and the FINs are never lost).
# The stack repairs every loss (fast retransmit after SACKed duplicate ACKs, sometimes an RTO or
# a tail-loss probe) and both ends close normally. nft's random is not seedable: the count and
# position of the losses change from run to run, the kind of finding does not.
# Knobs: LAB_SIZE (default 1500000), LAB_LOSS_PERMILLE (default 20).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
size=${LAB_SIZE:-1500000} permille=${LAB_LOSS_PERMILLE:-20}
lab_nft "$ROUTER_NS" <<NFT
table inet lab {
  chain filter_forward {
    type filter hook forward priority 0; policy accept;
    ip saddr $SERVER_IP tcp sport 8080 ip length > 100 numgen random mod 1000 < $permille counter drop
  }
}
NFT
lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c '
import socket, sys
size = int(sys.argv[1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.recv(100)
block = bytes(range(256)) * 256
sent = 0
while sent < size:
    n = min(len(block), size - sent)
    c.sendall(block[:n]); sent += n
c.close()
' "$size"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=30)
s.sendall(b"GET /bulk\r\n")
got = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    got += len(d)
s.close()
if got != int(sys.argv[2]):
    sys.exit("short transfer: %d" % got)
print("client received", got)
' "$SERVER_IP" "$size"
lab_wait_pid "$server" 10
lab_capture_stop
lab_router_exec nft list ruleset | grep -o 'counter packets [0-9]*' | sed 's/^/[lab] router dropped: /' >&2
