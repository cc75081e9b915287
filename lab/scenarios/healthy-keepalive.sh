#!/usr/bin/env bash
# healthy-keepalive: the client enables SO_KEEPALIVE with TCP_KEEPIDLE=1, TCP_KEEPINTVL=1,
# TCP_KEEPCNT=5, makes a small request/response, stays idle LAB_IDLE_S seconds (default 5) while
# its kernel sends a keep-alive every second (seq = SND.NXT - 1, no data) that the server's kernel
# ACKs, then makes a second request/response and closes normally (FIN both ways).
# Knobs: LAB_IDLE_S (default 5).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
idle=${LAB_IDLE_S:-5}
lab_server 60 reply_server.py --reply '200 OK {200*k}\n'
lab_capture_start
lab_client 60 --keepalive 1:1:5 --timeout 10 "$SERVER_IP" \
    connect 'send:GET /first\r\n' line "sleep:$idle" 'send:GET /second\r\n' line close
lab_wait_pid "$LAB_SERVER_PID" 5
lab_capture_stop
