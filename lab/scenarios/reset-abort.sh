#!/usr/bin/env bash
# reset-abort: a small request/response works, the client then waits for more; LAB_IDLE_S (default
# 1) later the server application aborts the connection: SO_LINGER {1, 0} then close() makes its
# kernel send a RST. The client's recv() fails with ECONNRESET. Nothing is lost anywhere.
# Knobs: LAB_IDLE_S (seconds between the response and the abort, default 1).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
idle=${LAB_IDLE_S:-1}
lab_server 30 reply_server.py --reply '200 OK {1993*x}\n' --requests 1 --idle "$idle" --then abort
lab_capture_start
lab_client 30 --timeout 10 --recv-size 4096 "$SERVER_IP" connect 'send:GET /small\r\n' reset
lab_wait_pid "$LAB_SERVER_PID" 5
lab_capture_stop
