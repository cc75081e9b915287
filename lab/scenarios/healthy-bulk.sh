#!/usr/bin/env bash
# healthy-bulk: the client downloads LAB_SIZE bytes (default 1000000) from the server; the server
# closes after sending (FIN), the client reads to EOF and closes (FIN). Nothing goes wrong.
# Knobs: LAB_SIZE (bytes, default 1000000), LAB_TLP (default 0).
# capture-missed.sh and capture-offload.sh run this script with other settings.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
lab_server_no_tlp
lab_server 30 stream_server.py --size "${LAB_SIZE:-1000000}" --write 65536
lab_capture_start
lab_client 30 "$SERVER_IP" connect 'send:GET /bulk\r\n' eof close
lab_wait_pid "$LAB_SERVER_PID" 10
lab_capture_stop
