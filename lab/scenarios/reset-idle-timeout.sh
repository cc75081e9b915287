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
lab_forward_rules "ct state established,related accept" \
    "tcp flags & (syn | ack) == syn ct state new accept" "meta l4proto tcp reject with tcp reset"
lab_sysctl "$ROUTER_NS" net.netfilter.nf_conntrack_tcp_loose=0 \
    "net.netfilter.nf_conntrack_tcp_timeout_established=$ct_timeout"
lab_server 60 reply_server.py --reply '200 OK {200*i}\n' --requests 1 --timeout 20 --then drain
lab_capture_start
lab_client 60 --timeout 10 "$SERVER_IP" \
    connect 'send:GET /first\r\n' line "sleep:$idle" 'send:GET /second\r\n' reset
lab_capture_stop
