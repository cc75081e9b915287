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
lab_forward_rules "ip daddr $SERVER_IP tcp dport 8080 tcp flags & (syn | ack) == syn drop"
lab_server 30 reply_server.py
lab_capture_start
lab_client 30 --timeout "$connect_s" "$SERVER_IP" unanswered
lab_capture_stop
