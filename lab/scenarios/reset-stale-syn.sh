#!/usr/bin/env bash
# reset-stale-syn: the client binds source port LAB_CPORT (default 40000), makes a small
# request/response, then aborts (SO_LINGER {1, 0} + close() -> RST); the router drops that first
# RST from the client (nft numgen inc mod 1000 == 0 on RSTs from the client), so the server keeps
# the connection ESTABLISHED. LAB_GAP_S (default 0.5) seconds later the client connects again from
# the same port with a new ISN. What Linux does (RFC 5961): the server answers the SYN of the
# unknown-to-it new connection with a challenge ACK (an ACK for its old connection); the client,
# in SYN-SENT, sees an unacceptable ACK and answers it with a RST whose seq is that ACK's ack
# number, which the server accepts: the stale connection is gone. Having received an unacceptable
# ACK in SYN-SENT, the client's kernel retransmits its SYN (same ISN) after TCP_TIMEOUT_MIN
# (~10 ms, not the usual 1 s), the handshake succeeds, a small request/response follows and both
# ends close normally.
# Knobs: LAB_CPORT (default 40000), LAB_GAP_S (default 0.5).
set -euo pipefail
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
cport=${LAB_CPORT:-40000} gap=${LAB_GAP_S:-0.5}
lab_nft "$ROUTER_NS" <<NFT
table inet lab {
  chain filter_forward {
    type filter hook forward priority 0; policy accept;
    ip saddr $CLIENT_IP tcp flags & rst == rst numgen inc mod 1000 == 0 counter drop
  }
}
NFT
read -r -d '' SERVER_PY <<'PY' || true
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(4)
def serve(c, n):
    c.settimeout(20)
    try:
        c.recv(100)
        c.sendall(b"200 OK " + b"s" * 200 + b"\n")
        while c.recv(100):
            pass
        print("connection", n, "closed by the client")
    except OSError as e:
        print("connection", n, e)
    c.close()
threads = []
for n in range(2):
    c, _ = s.accept()
    t = threading.Thread(target=serve, args=(c, n)); t.start(); threads.append(t)
for t in threads:
    t.join()
PY
lab_bg "$SERVER_NS" 60 "$LAB_PYTHON" -c "$SERVER_PY"
server=$LAB_LAST_PID
lab_wait_listen "$SERVER_NS" 8080
lab_capture_start
lab_client_exec timeout 60 "$LAB_PYTHON" -c '
import socket, struct, sys, time
def conn():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(sys.argv[2])))
    s.settimeout(10)
    s.connect((sys.argv[1], 8080))
    s.sendall(b"GET /x\r\n")
    got = b""
    while not got.endswith(b"\n"):
        got += s.recv(1000)
    return s
s = conn()
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
time.sleep(float(sys.argv[3]))
t0 = time.time()
s = conn()
print("second connection from the same port took %.2f s" % (time.time() - t0))
s.close()
time.sleep(0.2)
' "$SERVER_IP" "$cport" "$gap"
lab_wait_pid "$server" 5 || true
lab_capture_stop
