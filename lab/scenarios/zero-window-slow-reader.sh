#!/usr/bin/env bash
# zero-window-slow-reader: the client sets SO_RCVBUF to LAB_RCVBUF (default 4096) before
# connecting and reads LAB_CHUNK bytes (default 2048) every LAB_READ_MS ms (default 80). The
# server sends LAB_SIZE bytes (default 65536) as fast as it can, then closes. The client's window
# closes to zero and reopens (window updates) again and again; the transfer completes and both
# ends close normally (FIN).
# Knobs: LAB_RCVBUF (4096), LAB_CHUNK (2048), LAB_READ_MS (80), LAB_SIZE (65536), LAB_TLP (0).
# The server runs with net.ipv4.tcp_early_retrans=0 (no tail-loss probe) unless LAB_TLP=1: on this
# sub-millisecond path the ACK that closes a tiny window is delayed ~40 ms and the TLP fires first,
# adding a spurious (D-SACKed) retransmission in some runs and not in others.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
lab_server_no_tlp
rcvbuf=${LAB_RCVBUF:-4096} chunk=${LAB_CHUNK:-2048} read_ms=${LAB_READ_MS:-80} size=${LAB_SIZE:-65536}
lab_server 60 stream_server.py --size "$size" --fill s
lab_capture_start
lab_client 60 --rcvbuf "$rcvbuf" --timeout 10 --recv-size "$chunk" --read-pause-ms "$read_ms" \
    "$SERVER_IP" connect 'send:GET /stream\r\n' "eof:$size" close
lab_wait_pid "$LAB_SERVER_PID" 5 || true
lab_capture_stop
