#!/usr/bin/env bash
# zero-window-not-reading: the client sets SO_RCVBUF to LAB_RCVBUF (default 4096) before
# connecting, asks for a stream, reads the first 1000 bytes and then never reads again. The server
# writes until its send buffer is full; the client's window drops to zero and stays there, the
# server's zero-window probes (seq = SND.UNA - 1, tshark says "TCP Keep-Alive") are answered
# with window 0. LAB_HOLD_S (default 7) seconds later the client application aborts
# (SO_LINGER {1, 0} + close() -> RST).
# Knobs: LAB_RCVBUF (default 4096), LAB_HOLD_S (default 7), LAB_TLP (default 0).
# The server runs with net.ipv4.tcp_early_retrans=0 (no tail-loss probe) unless LAB_TLP=1: on this
# sub-millisecond path the ACK that closes a tiny window is delayed ~40 ms and the TLP fires first,
# adding a spurious (D-SACKed) retransmission in some runs and not in others.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
lab_server_no_tlp
rcvbuf=${LAB_RCVBUF:-4096} hold=${LAB_HOLD_S:-7}
lab_server 60 stream_server.py --count 64 --write 16384 --fill z
lab_capture_start
lab_client 60 --rcvbuf "$rcvbuf" --timeout 5 "$SERVER_IP" \
    connect 'send:GET /stream\r\n' read:1000 "sleep:$hold" abort
lab_wait_pid "$LAB_SERVER_PID" 5 || true
lab_capture_stop
