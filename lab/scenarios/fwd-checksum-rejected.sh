#!/usr/bin/env bash
# fwd-checksum-rejected: one segment reaches the client with a bad TCP checksum; the client's
# kernel drops it (TcpInCsumErrors), the server retransmits it and the transfer completes.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 5) ms of delay each way and flips one bit of the TCP checksum of the first segment
# whose payload contains the marker "TCPSLEUTH-CSUM" (retransmissions pass unchanged). The server
# (TCP_NODELAY) sends LAB_COUNT (default 60) writes of 1000 bytes, one every LAB_INTERVAL_MS
# (default 20) ms; write number LAB_MARK_AT (default 20, from 0) carries the marker; then it
# closes, and the client reads to EOF and closes. The captures keep whole packets (snaplen 0) so
# the checksums can be verified: the client's capture shows the corrupted segment (bad checksum),
# the server's capture shows it with a good checksum.
# Knobs: LAB_DELAY_MS LAB_COUNT LAB_INTERVAL_MS LAB_MARK_AT.
set -euo pipefail
export LAB_FORWARD=user
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-5} count=${LAB_COUNT:-60} interval=${LAB_INTERVAL_MS:-20}
mark_at=${LAB_MARK_AT:-20}
marker=TCPSLEUTH-CSUM

lab_forwarder --delay-ms "$delay" --corrupt-marker "$marker"
lab_server 60 stream_server.py --count "$count" --write 1000 --interval-ms "$interval" \
    --fill letters --nodelay --marker "$marker" --mark-at "$mark_at" --mark-offset 100
lab_client_exec nstat -n
lab_capture_start 0
lab_client 60 --timeout 10 "$SERVER_IP" connect 'send:GET /stream\r\n' eof close
lab_wait_pid "$LAB_SERVER_PID" 10
lab_capture_stop
lab_forwarder_stop
lab_nstat "$CLIENT_NS" client TcpInCsumErrors
