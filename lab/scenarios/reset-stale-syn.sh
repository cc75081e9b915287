#!/usr/bin/env bash
# reset-stale-syn: the client binds source port LAB_CPORT (default 40000), makes a small
# request/response, then aborts (SO_LINGER {1, 0} + close() -> RST); the router drops that first
# RST from the client (nft numgen inc mod 1000 == 0 on RSTs from the client), so the server keeps
# the connection ESTABLISHED. LAB_GAP_S (default 0.5) seconds later the client connects again from
# the same port with a new ISN. What Linux does (RFC 5961): the server answers the SYN of the
# unknown-to-it new connection with a challenge ACK (an ACK for its old connection); the client,
# in SYN-SENT, sees an unacceptable ACK and answers it with a RST whose seq is that ACK's ack
# number, which the server accepts: the stale connection is gone. Having received an unacceptable
# ACK in SYN-SENT, the client's kernel retransmits its SYN (same ISN) after TCP_TIMEOUT_MIN
# (~10 ms, not the usual 1 s), the handshake succeeds, a small request/response follows and both
# ends close normally.
# Knobs: LAB_CPORT (default 40000), LAB_GAP_S (default 0.5).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
cport=${LAB_CPORT:-40000} gap=${LAB_GAP_S:-0.5}
lab_forward_rules "ip saddr $CLIENT_IP tcp flags & rst == rst numgen inc mod 1000 == 0 counter drop"
lab_server 60 reply_server.py --connections 2 --backlog 4 --timeout 20 \
    --reply '200 OK {200*s}\n' --requests 1 --then drain
lab_capture_start
lab_client 60 --bind-port "$cport" --timeout 10 "$SERVER_IP" \
    connect 'send:GET /x\r\n' line abort "sleep:$gap" \
    connect 'send:GET /x\r\n' line close sleep:0.2
lab_wait_pid "$LAB_SERVER_PID" 5 || true
lab_capture_stop
