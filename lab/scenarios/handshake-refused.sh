#!/usr/bin/env bash
# handshake-refused: the client connects to port 8081 of the server, where nothing listens; the
# server's kernel answers the SYN with RST/ACK and connect() fails with ECONNREFUSED. One attempt.
# Knobs: none.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
lab_capture_start
lab_client_exec timeout 10 "$LAB_PYTHON" -c '
import socket, sys
try:
    socket.create_connection((sys.argv[1], 8081), timeout=3)
    sys.exit("connected?!")
except ConnectionRefusedError:
    print("refused, as expected")
' "$SERVER_IP"
lab_capture_stop
