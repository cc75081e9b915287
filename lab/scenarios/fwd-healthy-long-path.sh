#!/usr/bin/env bash
# fwd-healthy-long-path: a healthy download over a long path; nothing goes wrong.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 40) ms of delay each way (~80 ms RTT) and nothing else. The client downloads LAB_SIZE
# (default 800000) bytes; the server closes after sending (FIN), the client reads to EOF and
# closes (FIN). Slow start takes several RTTs; no loss, no reordering, no window limit (the
# client's receive buffer autotunes).
# Knobs: LAB_DELAY_MS LAB_SIZE.
set -euo pipefail
export LAB_FORWARD=user
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-40} size=${LAB_SIZE:-800000}

lab_forwarder --delay-ms "$delay"
lab_download "$size"
lab_forwarder_stop
lab_nstat "$SERVER_NS" server TcpRetransSegs TcpExtTCPLossProbes
