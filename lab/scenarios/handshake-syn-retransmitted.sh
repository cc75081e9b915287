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
lab_forward_rules \
    "ip daddr $SERVER_IP tcp dport 8080 tcp flags & (syn | ack) == syn numgen inc mod 1000 == 0 drop"
lab_server 30 reply_server.py --reply '200 OK {493*x}\n' --requests 1 --then drain
lab_capture_start
lab_client 30 --timeout 10 "$SERVER_IP" connect 'send:GET /small\r\n' read:501 close
lab_wait_pid "$LAB_SERVER_PID" 5
lab_capture_stop
