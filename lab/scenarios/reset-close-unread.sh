#!/usr/bin/env bash
# reset-close-unread: the server sends a short banner; the client sends a 1000-byte request that
# the server application never reads; LAB_IDLE_S (default 0.5) after the banner the server closes
# its socket with that data still unread, so its kernel sends RST instead of FIN (RFC 2525
# 2.17). The client's recv() fails with ECONNRESET.
# Knobs: LAB_IDLE_S (default 0.5).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
idle=${LAB_IDLE_S:-0.5}
lab_server 30 reply_server.py --banner '220 ready\r\n' --requests 0 --idle "$idle"
lab_capture_start
lab_client 30 --timeout 10 --recv-size 100 "$SERVER_IP" \
    connect line 'send:POST /upload\r\n{986*y}' reset
lab_wait_pid "$LAB_SERVER_PID" 5
lab_capture_stop
