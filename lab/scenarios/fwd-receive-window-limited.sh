#!/usr/bin/env bash
# fwd-receive-window-limited: throughput capped by the client's small receive window.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 25) ms of delay each way (~50 ms RTT). The client sets SO_RCVBUF to LAB_RCVBUF (default
# 16384) bytes before connecting (so the window scale and the window stay small) and reads as fast
# as it can; the server sends LAB_SIZE (default 1000000) bytes with one sendall() and closes; the
# client reads to EOF and closes. The server's congestion window soon exceeds the client's
# advertised window: once per RTT the server sends exactly one window of data and waits, the
# window never falls to zero (the application empties the buffer at once).
# Knobs: LAB_DELAY_MS LAB_RCVBUF LAB_SIZE.
set -euo pipefail
export LAB_FORWARD=user
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-25} rcvbuf=${LAB_RCVBUF:-16384} size=${LAB_SIZE:-1000000}

lab_forwarder --delay-ms "$delay"
lab_download "$size" --rcvbuf "$rcvbuf" --recv-size 1048576
lab_forwarder_stop
