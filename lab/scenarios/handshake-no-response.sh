#!/usr/bin/env bash
# handshake-no-response: the router drops every SYN to port 8080 (nft, forward hook). A server
# listens, but never sees anything. The client's connect() gives up after LAB_CONNECT_S seconds
# (default 4.5): with tcp_syn_linear_timeouts=4 the kernel sends a SYN at 0, 1, 2, 3, 4 s.
# client.pcap shows the SYN and its retransmissions (same ISN); server.pcap is empty.
# Knobs: LAB_CONNECT_S (connect timeout, default 4.5).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
connect_s=${LAB_CONNECT_S:-4.5}
lab_nft "$ROUTER_NS" <<NFT
table inet lab {
  chain filter_forward {
    type filter hook forward priority 0; policy accept;
    ip daddr $SERVER_IP tcp dport 8080 tcp flags & (syn | ack) == syn drop
  }
}
NFT
lab_bg "$SERVER_NS" 30 "$LAB_PYTHON" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
s.accept()
'
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 30 "$LAB_PYTHON" -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 8080), timeout=float(sys.argv[2]))
    sys.exit("connected?!")
except socket.timeout:
    print("connect timed out, as expected")
' "$SERVER_IP" "$connect_s"
lab_capture_stop
