#!/usr/bin/env bash
# loss-random: the client downloads LAB_SIZE bytes (default 1500000); the router drops data
# segments from the server at random (nft: numgen random mod 1000 < LAB_LOSS_PERMILLE, default
# 20 = 2 %; only packets longer than 100 bytes, so the handshake and the FINs are never lost).
# The stack repairs every loss (fast retransmit after SACKed duplicate ACKs, sometimes an RTO or
# a tail-loss probe) and both ends close normally. nft's random is not seedable: the count and
# position of the losses change from run to run, the kind of finding does not.
# Knobs: LAB_SIZE (default 1500000), LAB_LOSS_PERMILLE (default 20).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
size=${LAB_SIZE:-1500000} permille=${LAB_LOSS_PERMILLE:-20}
lab_forward_rules \
    "ip saddr $SERVER_IP tcp sport 8080 ip length > 100 numgen random mod 1000 < $permille counter drop"
lab_server 60 stream_server.py --size "$size" --write 65536
lab_capture_start
lab_client 60 --timeout 30 "$SERVER_IP" connect 'send:GET /bulk\r\n' "eof:$size" close
lab_wait_pid "$LAB_SERVER_PID" 10
lab_capture_stop
lab_router_exec nft list ruleset | grep -o 'counter packets [0-9]*' | sed 's/^/[lab] router dropped: /' >&2
