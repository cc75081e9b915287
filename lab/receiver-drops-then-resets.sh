#!/usr/bin/env bash
# Reproduces the first seed's failure with the real Linux stack: the client's host stops
# accepting the server's data (an nftables drop on the client's input path), the server
# retransmits the same segment with RTO backoff while the client's ACK stays stuck, and the
# client application gives up and aborts (SO_LINGER 0 → RST, the peer sees 10054/ECONNRESET).
# The capture is taken on the client's interface, where the dropped segments are still seen.
#
# Made fixtures/captures/lab/receiver-drops-then-resets.pcap. Usage: lab/receiver-drops-then-resets.sh OUT.pcap   (needs root; creates and removes its own
# network namespaces; traffic stays between them)
set -euo pipefail
out=${1:?usage: $0 OUT.pcap}
out=$(realpath -m "$out")
tag=ts$$
cli=${tag}c srv=${tag}s
cleanup() {
  [ -n "${dump:-}" ] && kill -INT "$dump" 2>/dev/null && wait "$dump" 2>/dev/null || true
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  ip netns del "$srv" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$cli"
ip netns add "$srv"
ip link add veth-c netns "$cli" type veth peer name veth-s netns "$srv"
for ns in "$cli" "$srv"; do
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  ip netns exec "$ns" ip link set lo up
done
ip netns exec "$cli" ip addr add 10.77.0.1/24 dev veth-c
ip netns exec "$srv" ip addr add 10.77.0.2/24 dev veth-s
ip netns exec "$cli" ip link set veth-c up
ip netns exec "$srv" ip link set veth-s up
for pair in "$cli veth-c" "$srv veth-s"; do
  set -- $pair
  ip netns exec "$1" ethtool -K "$2" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
done

# The server sends 2000 bytes per 100 ms for up to 10 s.
ip netns exec "$srv" timeout 20 python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.2", 8080)); s.listen(1)
c, _ = s.accept()
c.recv(100)
try:
    for i in range(100):
        c.sendall(bytes([65 + i % 26]) * 2000); time.sleep(0.1)
except OSError:
    pass
' &
server=$!
sleep 0.5
ip netns exec "$cli" tcpdump -q -i veth-c -s 0 -w "$out" tcp port 8080 2>/dev/null &
dump=$!
sleep 1

# The client reads for 1 s, then its host drops everything from the server; the application
# waits 4 s more for data and aborts the connection.
ip netns exec "$cli" timeout 20 python3 -c '
import socket, struct, subprocess, time
s = socket.create_connection(("10.77.0.2", 8080)); s.sendall(b"GET /stream\r\n")
end = time.time() + 1
while time.time() < end:
    s.recv(65536)
subprocess.run(["nft", "add table inet lab"], check=True)
subprocess.run(["nft", "add chain inet lab in { type filter hook input priority 0; }"], check=True)
subprocess.run(["nft", "add rule inet lab in ip saddr 10.77.0.2 tcp sport 8080 drop"], check=True)
s.settimeout(4)
try:
    while s.recv(65536):
        pass
except socket.timeout:
    pass
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("client aborted at", time.time())
'
sleep 1.5
kill -INT "$dump"; wait "$dump" 2>/dev/null || true
dump=
echo "wrote $out"
