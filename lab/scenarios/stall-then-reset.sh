#!/usr/bin/env bash
# stall-then-reset: the server streams 4000-byte writes (TCP_NODELAY: 3 segments of 1448, 1448,
# 1104 bytes) every 50 ms; write number LAB_MARK_AT (default 20) carries the marker
# "TCPSLEUTH-STALL" at offset 1600, i.e. inside its second segment. The router
# drops every packet that contains the marker (iptables -m string in FORWARD), i.e. that segment
# and all its retransmissions. The client's ACK stays stuck below it while later segments arrive
# (duplicate ACKs with SACK), the server retransmits the segment with RTO backoff; LAB_GIVEUP_S
# (default 6) seconds after the last data it could read, the client application aborts
# (SO_LINGER {1, 0} + close() -> RST).
# Knobs: LAB_MARK_AT (default 20), LAB_GIVEUP_S (default 6), LAB_INTERVAL_MS (default 50).
# LAB_STALL_DROP=router (default) or client-input: receiver-rejects-then-resets.sh runs this
# script with client-input, which drops the marked segments in the client's INPUT chain instead.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
mark_at=${LAB_MARK_AT:-20} giveup=${LAB_GIVEUP_S:-6} interval=${LAB_INTERVAL_MS:-50}
marker=TCPSLEUTH-STALL
case "${LAB_STALL_DROP:-router}" in
    router) lab_match_marker "$ROUTER_NS" FORWARD "$marker" DROP ;;
    client-input) lab_match_marker "$CLIENT_NS" INPUT "$marker" DROP ;;
    *) lab_die "LAB_STALL_DROP must be router or client-input" ;;
esac
lab_server 60 stream_server.py --count 400 --write 4000 --interval-ms "$interval" --fill letters \
    --nodelay --marker "$marker" --mark-at "$mark_at" --mark-offset 1600
lab_capture_start
lab_client 60 --timeout 5 "$SERVER_IP" connect 'send:GET /stream\r\n' "idle:$giveup" abort
lab_wait_pid "$LAB_SERVER_PID" 5 || true
lab_capture_stop
