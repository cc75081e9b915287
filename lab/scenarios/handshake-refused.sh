#!/usr/bin/env bash
# handshake-refused: the client connects to port 8081 of the server, where nothing listens; the
# server's kernel answers the SYN with RST/ACK and connect() fails with ECONNREFUSED. One attempt.
# Knobs: none.
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
lab_capture_start
lab_client 10 --port 8081 --timeout 3 "$SERVER_IP" refused
lab_capture_stop
