#!/usr/bin/env bash
# reset-injected: the server streams 4000-byte writes every 50 ms; write LAB_MARK_AT (default
# 10) carries the marker "TCPSLEUTH-INJECT". The router matches it (iptables -m string in FORWARD)
# with -j REJECT --reject-with tcp-reset: the marked segment is dropped and the router sends a RST
# to the server (the sender of the matched packet) with its own TTL (64, where the client's
# packets arrive with 63), IP ID 0 and no ACK flag. The server's stack accepts it and its
# application gets ECONNRESET. The client never sees that RST: its stream simply stops; the client
# application waits LAB_GIVEUP_S (default 3) seconds, then closes normally (FIN), and the server's
# kernel, which no longer knows the connection, answers the FIN with a RST of its own.
# Knobs: LAB_MARK_AT (default 10), LAB_GIVEUP_S (default 3).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
mark_at=${LAB_MARK_AT:-10} giveup=${LAB_GIVEUP_S:-3}
marker=TCPSLEUTH-INJECT
lab_match_marker "$ROUTER_NS" FORWARD "$marker" REJECT --reject-with tcp-reset
lab_server 60 stream_server.py --count 200 --write 4000 --interval-ms 50 --fill letters \
    --nodelay --marker "$marker" --mark-at "$mark_at" --mark-offset 1600
lab_capture_start
lab_client 60 --timeout 5 "$SERVER_IP" connect 'send:GET /stream\r\n' "idle:$giveup" close sleep:0.5
lab_wait_pid "$LAB_SERVER_PID" 5 || true
lab_capture_stop
