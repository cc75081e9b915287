#!/usr/bin/env bash
# handshake-syn-retransmitted: the router drops the first SYN to port 8080 only (nft numgen inc
# mod 1000 == 0: the counter starts at 0). The client's kernel retransmits the SYN (same ISN) after
# 1 s, that one gets through, then a small request/response and a normal close (FIN both ways).
# client.pcap shows two SYNs; server.pcap shows only the second one.
# Knobs: none.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
lab_nft "$ROUTER_NS" <<NFT
table inet lab {
  chain filter_forward {
    type filter hook forward priority 0; policy accept;
    ip daddr $SERVER_IP tcp dport 8080 tcp flags & (syn | ack) == syn numgen inc mod 1000 == 0 drop
  }
}
NFT
lab_bg "$SERVER_NS" 30 "$LAB_PYTHON" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.recv(100)
c.sendall(b"200 OK " + b"x" * 493 + b"\n")
c.recv(100)
c.close()
'
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 30 "$LAB_PYTHON" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.sendall(b"GET /small\r\n")
got = b""
while len(got) < 501:
    got += s.recv(1000)
s.close()
print("received", len(got))
' "$SERVER_IP"
lab_wait_pid "$server" 5
lab_capture_stop
