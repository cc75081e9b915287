#!/usr/bin/env bash
# fwd-reordering: segments arrive out of order, nothing is lost or retransmitted.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 10) ms of delay each way (~20 ms RTT) and holds back every LAB_EVERY-th (default 50th)
# data segment from the server for LAB_HOLD_MS (default 3) ms or until LAB_HOLD_PKTS (default 2)
# later segments have overtaken it, whichever comes first. The client downloads LAB_SIZE (default
# 1000000) bytes; the server closes after sending, the client reads to EOF and closes.
# The displacement is kept below what makes Linux retransmit: fewer than 3 segments overtake
# (DupThresh) and the hold is shorter than RACK's reordering window (min_RTT/4 = 5 ms here), so
# the sender only sees duplicate ACKs with SACK blocks that are filled a moment later.
# Knobs: LAB_DELAY_MS LAB_EVERY LAB_HOLD_MS LAB_HOLD_PKTS LAB_SIZE.
set -euo pipefail
export LAB_FORWARD=user
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-10} every=${LAB_EVERY:-50} hold_ms=${LAB_HOLD_MS:-3}
hold_pkts=${LAB_HOLD_PKTS:-2} size=${LAB_SIZE:-1000000}

lab_forwarder --delay-ms "$delay" --reorder-every "$every" --reorder-dir s2c \
    --reorder-hold-ms "$hold_ms" --reorder-hold-pkts "$hold_pkts"
lab_download "$size"
lab_forwarder_stop ' hold '
lab_nstat "$SERVER_NS" server TcpRetransSegs TcpExtTCPSACKReorder
