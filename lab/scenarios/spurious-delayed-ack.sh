#!/usr/bin/env bash
# spurious-delayed-ack: request/response with a small client RTO. The client's route to the
# server has rto_min 5ms (ip route change ... rto_min 5ms in the client namespace); the server
# answers each 100-byte request after LAB_THINK_MS (default 30) ms of think time. From the second
# exchange on the server's stack is in interactive (pingpong) mode and delays its ACK (>= 40 ms),
# so the ACK only comes with the response; the client's retransmission timer (~15 ms here: rto_min
# plus timer granularity) fires first and the request is retransmitted although it was not lost;
# the server D-SACKs the duplicate at once. That D-SACK's timestamp echo gives the client a tiny RTT
# sample, so its RTO stays small and the pattern repeats on every exchange. A think time close to
# the RTO (e.g. 15 ms) makes the response race the retransmission; once the response wins, the RTT
# sample (= think time) lifts the RTO above the think time and the retransmissions stop. LAB_EXCHANGES
# (default 15) exchanges, then a normal close.
# Knobs: LAB_THINK_MS (default 30), LAB_EXCHANGES (default 15), LAB_RTO_MIN (default 5ms).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
think=${LAB_THINK_MS:-30} exchanges=${LAB_EXCHANGES:-15} rto_min=${LAB_RTO_MIN:-5ms}
lab_client_exec ip route change "$SERVER_NET" via "$ROUTER_CIP" dev "$CLIENT_IF" rto_min "$rto_min"
lab_server 60 reply_server.py --reply '{300*r}' --request-size 100 --recv-size 1000 \
    --think-ms "$think"
exchange=('send:{100*q}' read:300 sleep:0.02)
steps=()
for ((i = 0; i < exchanges; i++)); do steps+=("${exchange[@]}"); done
lab_capture_start
lab_client 60 --timeout 10 --nodelay "$SERVER_IP" connect "${steps[@]}" close
lab_wait_pid "$LAB_SERVER_PID" 5
lab_capture_stop
