#!/usr/bin/env bash
# capture-offload: a download of LAB_SIZE bytes (default 200000) with offloads left ON at the
# server's veth (tx checksum, sg, tso, gso, gro on srv0; off everywhere else). The server's
# capture records what its stack hands to the device: TSO/GSO super-segments much larger than
# the MSS, and partial (bad) TCP checksums on every packet it sends (SYN-ACK and pure ACKs
# included). The router segments and checksums them on the way, so the client's capture is
# normal. Captured with whole packets (snaplen 0) so the checksums can be verified.
# Knobs: LAB_SIZE (default 200000), LAB_TLP (default 0). Keep LAB_SIZE below about 1 MB: at
#        5 MB the veth path itself starts to drop and reorder, and the transfer is no longer
#        healthy apart from the offload artifacts.
set -euo pipefail
LAB_OFFLOAD="${LAB_OFFLOAD:-srv0}"
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
# No tail-loss probe on the server (LAB_TLP=1 keeps it): on this sub-millisecond path an ACK
# delayed ~40 ms by the client occasionally lets the TLP fire (about 1 run in 10), adding a
# spurious retransmission to an otherwise clean transfer.
[ "${LAB_TLP:-0}" = 1 ] || lab_sysctl "$SERVER_NS" net.ipv4.tcp_early_retrans=0
size=${LAB_SIZE:-200000}
lab_bg "$SERVER_NS" 30 "$LAB_PYTHON" -c '
import socket, sys
size = int(sys.argv[1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1)
c, _ = s.accept()
c.recv(100)
block = bytes(range(256)) * 256
sent = 0
while sent < size:
    n = min(len(block), size - sent)
    c.sendall(block[:n]); sent += n
c.close()
' "$size"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start 0
lab_client_exec timeout 30 "$LAB_PYTHON" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8080))
s.sendall(b"GET /bulk\r\n")
got = 0
while True:
    d = s.recv(65536)
    if not d:
        break
    got += len(d)
s.close()
print("client received", got)
' "$SERVER_IP"
lab_wait_pid "$server" 10
lab_capture_stop
