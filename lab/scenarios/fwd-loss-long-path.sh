#!/usr/bin/env bash
# fwd-loss-long-path: random loss on a long path, repaired by retransmission.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 50) ms of delay each way (~100 ms RTT) and drops LAB_LOSS_PERMILLE (default 15, i.e.
# 1.5 %) of the data segments going LAB_DROP_DIR (default s2c: the server's data), drawn from a
# random generator seeded with LAB_SEED (default 3): the same seed drops the same ordinal
# segments. Only segments with payload are dropped (handshake, FIN and ACKs pass). The client
# downloads LAB_SIZE (default 1000000) bytes; the server closes after sending, the client reads
# to EOF and closes. The server repairs every loss (SACK recovery / RACK, RTO for tail losses).
# Knobs: LAB_DELAY_MS LAB_LOSS_PERMILLE LAB_DROP_DIR (s2c | c2s | both) LAB_SEED LAB_SIZE.
set -euo pipefail
export LAB_FORWARD=user
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-50} loss=${LAB_LOSS_PERMILLE:-15} dir=${LAB_DROP_DIR:-s2c}
seed=${LAB_SEED:-3} size=${LAB_SIZE:-1000000}

lab_forwarder --delay-ms "$delay" --drop-permille "$loss" --drop-dir "$dir" --seed "$seed"
lab_download "$size"
lab_forwarder_stop
lab_nstat "$SERVER_NS" server TcpRetransSegs TcpExtTCPFastRetrans TcpExtTCPTimeouts \
    TcpExtTCPLossProbes TcpExtTCPDSACKRecv TcpExtTCPSpuriousRTOs
