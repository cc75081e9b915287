#!/usr/bin/env bash
# reset-idle-timeout: a stateful firewall in the router (conntrack, nf_conntrack_tcp_loose=0,
# established timeout LAB_CT_TIMEOUT_S seconds, default 3) accepts ESTABLISHED/RELATED packets and
# new SYNs and rejects any other TCP packet with a RST (nft reject with tcp reset). The client
# makes a small request/response, stays idle LAB_IDLE_S seconds (default 5), then sends a second
# request: the firewall has forgotten the connection, so the router answers with a RST of its
# own (TTL 64 where the server's packets arrive with 63, IP ID 0, no ACK flag). The server never
# sees the second request nor any RST and stays ESTABLISHED.
# Knobs: LAB_CT_TIMEOUT_S (default 3), LAB_IDLE_S (default 5).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
ct_timeout=${LAB_CT_TIMEOUT_S:-3} idle=${LAB_IDLE_S:-5}
lab_nft "$ROUTER_NS" <<'NFT'
table inet lab {
  chain filter_forward {
    type filter hook forward priority 0; policy accept;
    ct state established,related accept
    tcp flags & (syn | ack) == syn ct state new accept
    meta l4proto tcp reject with tcp reset
  }
}
NFT
lab_sysctl "$ROUTER_NS" net.netfilter.nf_conntrack_tcp_loose=0 \
    "net.netfilter.nf_conntrack_tcp_timeout_established=$ct_timeout"
lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.recv(100)
c.sendall(b"200 OK " + b"i" * 200 + b"\n")
c.settimeout(20)
try:
    print("server got", c.recv(100))
except OSError as e:
    print("server:", e)
'
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.sendall(b"GET /first\r\n")
got = b""
while not got.endswith(b"\n"):
    got += s.recv(1000)
time.sleep(float(sys.argv[2]))
s.sendall(b"GET /second\r\n")
try:
    d = s.recv(1000)
    sys.exit("got %r instead of a reset?!" % d)
except ConnectionResetError:
    print("ECONNRESET after the idle period, as expected")
' "$SERVER_IP" "$idle"
lab_capture_stop
