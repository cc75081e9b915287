#!/usr/bin/env bash
# capture-missed: a healthy download of LAB_SIZE bytes (default 1000000, as healthy-bulk), then
# frames are deleted from client.pcap after the fact with editcap: the server data segments
# number LAB_MISS (default "100 250 251 400") counted among the server's data segments in the
# client capture (1 = the first one). server.pcap is left as captured. The client's ACKs cover the
# deleted segments (they were delivered, just not recorded) and nothing is ever retransmitted.
# The deleted frame numbers are printed on stderr ("[lab] deleted frames: ...").
# Knobs: LAB_SIZE (default 1000000), LAB_MISS (default "100 250 251 400"), LAB_TLP (default 0).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
# No tail-loss probe on the server (LAB_TLP=1 keeps it): on this sub-millisecond path an ACK
# delayed ~40 ms by the client occasionally lets the TLP fire (about 1 run in 10), adding a
# spurious retransmission to an otherwise clean transfer.
[ "${LAB_TLP:-0}" = 1 ] || lab_sysctl "$SERVER_NS" net.ipv4.tcp_early_retrans=0
size=${LAB_SIZE:-1000000} miss=${LAB_MISS:-100 250 251 400}

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
lab_capture_start
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

# Frame numbers of the server's data segments in client.pcap, in order.
mapfile -t data_frames < <(tshark -n -r "$LAB_OUT/client.pcap" \
    -Y "ip.src == $SERVER_IP && tcp.len > 0" -T fields -e frame.number 2>/dev/null)
delete=()
for k in $miss; do
    { [ "$k" -ge 1 ] && [ "$k" -le "${#data_frames[@]}" ]; } ||
        lab_die "LAB_MISS: data segment $k does not exist (${#data_frames[@]} data segments)"
    delete+=("${data_frames[$((k - 1))]}")
done
editcap -F pcap "$LAB_OUT/client.pcap" "$LAB_TMP/client-edited.pcap" "${delete[@]}"
mv "$LAB_TMP/client-edited.pcap" "$LAB_OUT/client.pcap"
lab_log "deleted frames: ${delete[*]} (server data segments $miss) from client.pcap"
