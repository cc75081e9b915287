#!/usr/bin/env bash
# receiver-rejects-then-resets: the seed's failure in the three-namespace lab. Same traffic as
# stall-then-reset.sh (the server streams 4000-byte writes every 50 ms, write LAB_MARK_AT carries
# a marker), but the marked segment and all its retransmissions are dropped by the CLIENT's own
# host (iptables -m string in the client namespace's INPUT chain, after the capture point), so
# client.pcap shows them arriving while the client's ACK stays stuck. The client application
# aborts LAB_GIVEUP_S seconds after the last data it could read (SO_LINGER 0 -> RST).
# Knobs: as stall-then-reset.sh (LAB_MARK_AT, LAB_GIVEUP_S, LAB_INTERVAL_MS).
set -euo pipefail
LAB_STALL_DROP=client-input exec "$(dirname "$0")/stall-then-reset.sh" "$@"
