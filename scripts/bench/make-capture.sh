#!/usr/bin/env bash
# scripts/bench/make-capture.sh OUT.pcap [SIZE_MB]: make the benchmark capture (as root).
#
# Builds three network namespaces of its own (client 10.99.1.2, router 10.99.1.1 | 10.99.2.1,
# server 10.99.2.2; offloads off on every veth end, as lab/lib.sh does; IPv6 off, static
# neighbours), drops BENCH_LOSS_PERMILLE/1000 of the forwarded TCP packets in the router (nft
# `numgen random mod 1000 < K`), and captures on the server's interface with tcpdump (snaplen
# 128: headers only; -B 65536) while it runs
#   - two iperf3 loops (one upload with BENCH_UP_STREAMS streams, one download -R with
#     BENCH_DOWN_STREAMS streams, BENCH_STREAM_RATE each, tests of BENCH_IPERF_S seconds), and
#   - BENCH_SHORT_CLIENTS clients of scripts/bench/shortconn.py making at most
#     BENCH_SHORT_COUNT short request/response connections each (100-byte request, 1500-byte
#     reply, the client closes first),
# until OUT.pcap reaches SIZE_MB (default 1024) MiB, at most BENCH_CAPTURE_MAX_S seconds. Then it
# stops tcpdump with SIGINT and reports its "dropped by kernel" count (non-zero: a warning, the
# capture is still usable as a benchmark input). Traffic never leaves the namespaces; a trap
# removes them and stops every process this script started, by PID.
#
# Knobs (environment): BENCH_LOSS_PERMILLE (3), BENCH_UP_STREAMS (3), BENCH_DOWN_STREAMS (2),
# BENCH_STREAM_RATE (150M, iperf3 -b), BENCH_IPERF_S (10), BENCH_SHORT_CLIENTS (2),
# BENCH_SHORT_COUNT (20000), BENCH_SHORT_RATE (300 per second per client), BENCH_CAPTURE_MAX_S
# (900).
set -euo pipefail

usage() { echo "usage: $0 OUT.pcap [SIZE_MB]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
OUT=$1
SIZE_MB=${2:-1024}
case "$SIZE_MB" in '' | *[!0-9]*) usage ;; esac
[ "$(id -u)" = 0 ] || { echo "make-capture.sh: must run as root" >&2; exit 1; }

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LOSS=${BENCH_LOSS_PERMILLE:-3}
UP_STREAMS=${BENCH_UP_STREAMS:-3}
DOWN_STREAMS=${BENCH_DOWN_STREAMS:-2}
STREAM_RATE=${BENCH_STREAM_RATE:-150M}
IPERF_S=${BENCH_IPERF_S:-10}
SHORT_CLIENTS=${BENCH_SHORT_CLIENTS:-2}
SHORT_COUNT=${BENCH_SHORT_COUNT:-20000}
SHORT_RATE=${BENCH_SHORT_RATE:-300}
MAX_S=${BENCH_CAPTURE_MAX_S:-900}

log() { echo "[bench $(date +%T)] $*" >&2; }
die() { echo "[bench] error: $*" >&2; exit 1; }

for tool in ip nft ethtool tcpdump python3 timeout; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
if ! command -v iperf3 >/dev/null; then
    log "installing iperf3"
    DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q iperf3 >/dev/null ||
        die "iperf3 is missing and could not be installed"
fi

TAG="bench$$"
CNS=${TAG}c RNS=${TAG}r SNS=${TAG}s
TMP="$(mktemp -d /tmp/tcpsleuth-bench.XXXXXX)"
STOP="$TMP/stop"
PIDS=()
CAP_PID=
UP=0

cleanup() {
    local pid
    touch "$STOP" 2>/dev/null || true
    if [ -n "$CAP_PID" ]; then
        kill -INT "$CAP_PID" 2>/dev/null || true
        wait "$CAP_PID" 2>/dev/null || true
        CAP_PID=
    fi
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    PIDS=()
    if [ "$UP" = 1 ]; then
        for ns in "$CNS" "$RNS" "$SNS"; do ip netns del "$ns" 2>/dev/null || true; done
        UP=0
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# bg NS SECONDS LOGNAME CMD...: CMD in NS in the background, bounded by timeout; PID in PIDS.
bg() {
    local ns=$1 secs=$2 name=$3
    shift 3
    ip netns exec "$ns" timeout "$secs" "$@" >"$TMP/$name.log" 2>&1 &
    PIDS+=("$!")
}

# ---- topology ----
UP=1
for ns in "$CNS" "$RNS" "$SNS"; do
    ip netns add "$ns"
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    nsx "$ns" ip link set lo up
done
ip link add cli0 netns "$CNS" address 02:99:01:00:00:02 type veth \
    peer name rtc0 netns "$RNS" address 02:99:01:00:00:01
ip link add srv0 netns "$SNS" address 02:99:02:00:00:02 type veth \
    peer name rts0 netns "$RNS" address 02:99:02:00:00:01
for pair in "$CNS cli0" "$RNS rtc0" "$RNS rts0" "$SNS srv0"; do
    read -r ns ifname <<<"$pair"
    nsx "$ns" ethtool -K "$ifname" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
    nsx "$ns" ip link set "$ifname" up
done
nsx "$CNS" ip addr add 10.99.1.2/24 dev cli0
nsx "$RNS" ip addr add 10.99.1.1/24 dev rtc0
nsx "$RNS" ip addr add 10.99.2.1/24 dev rts0
nsx "$SNS" ip addr add 10.99.2.2/24 dev srv0
nsx "$CNS" ip route add 10.99.2.0/24 via 10.99.1.1 dev cli0
nsx "$SNS" ip route add 10.99.1.0/24 via 10.99.2.1 dev srv0
nsx "$CNS" ip neigh replace 10.99.1.1 lladdr 02:99:01:00:00:01 dev cli0 nud permanent
nsx "$RNS" ip neigh replace 10.99.1.2 lladdr 02:99:01:00:00:02 dev rtc0 nud permanent
nsx "$RNS" ip neigh replace 10.99.2.2 lladdr 02:99:02:00:00:02 dev rts0 nud permanent
nsx "$SNS" ip neigh replace 10.99.2.1 lladdr 02:99:02:00:00:01 dev srv0 nud permanent
nsx "$RNS" sysctl -qw net.ipv4.ip_forward=1
# Sequential short connections from one client address: reuse TIME_WAIT ports when needed.
nsx "$CNS" sysctl -qw net.ipv4.tcp_tw_reuse=1
nsx "$RNS" nft -f - <<EOF
table inet bench {
  chain forward {
    type filter hook forward priority 0; policy accept;
    meta l4proto tcp numgen random mod 1000 < $LOSS counter drop
  }
}
EOF

# ---- servers ----
LIFE=$((MAX_S + 120))
bg "$SNS" "$LIFE" iperf3-up iperf3 -s -p 5201
bg "$SNS" "$LIFE" iperf3-down iperf3 -s -p 5202
bg "$SNS" "$LIFE" short-server python3 "$HERE/shortconn.py" server --duration "$LIFE"
for ((i = 0; i < 200; i++)); do
    n=$(nsx "$SNS" ss -Hltn '( sport = :5201 or sport = :5202 or sport = :8080 )' | wc -l)
    [ "$n" -ge 3 ] && break
    sleep 0.05
done
[ "$n" -ge 3 ] || die "the servers did not start: $(cat "$TMP"/*.log)"

# ---- capture ----
rm -f "$OUT"
ip netns exec "$SNS" timeout "$LIFE" tcpdump -n -Z root -B 65536 -s 128 -i srv0 -w "$OUT" tcp \
    2>"$TMP/tcpdump.log" &
CAP_PID=$!
for ((i = 0; i < 200; i++)); do
    grep -q 'listening on' "$TMP/tcpdump.log" 2>/dev/null && break
    sleep 0.05
done
grep -q 'listening on' "$TMP/tcpdump.log" || die "tcpdump did not start: $(cat "$TMP/tcpdump.log")"
sleep 0.2

# ---- traffic ----
# iperf3_loop PORT EXTRA...: back-to-back iperf3 tests until the stop file exists (bounded).
iperf3_loop() {
    local port=$1 k
    shift
    for ((k = 0; k < MAX_S / IPERF_S + 1; k++)); do
        [ -e "$STOP" ] && break
        timeout $((IPERF_S + 20)) iperf3 -c 10.99.2.2 -p "$port" -t "$IPERF_S" -b "$STREAM_RATE" \
            "$@" >/dev/null 2>&1 || sleep 0.5
    done
}
export -f iperf3_loop
export STOP MAX_S IPERF_S STREAM_RATE
# shellcheck disable=SC2016  # expanded by the inner bash
bg "$CNS" "$LIFE" iperf3-up-client bash -c 'iperf3_loop 5201 -P "$1"' _ "$UP_STREAMS"
# shellcheck disable=SC2016
bg "$CNS" "$LIFE" iperf3-down-client bash -c 'iperf3_loop 5202 -R -P "$1"' _ "$DOWN_STREAMS"
for ((c = 0; c < SHORT_CLIENTS; c++)); do
    bg "$CNS" "$LIFE" "short-client-$c" python3 "$HERE/shortconn.py" client 10.99.2.2 \
        --count "$SHORT_COUNT" --rate "$SHORT_RATE" --duration "$MAX_S" --stop-file "$STOP"
done
log "capturing into $OUT until it reaches $SIZE_MB MiB (at most ${MAX_S}s)"

limit=$((SIZE_MB * 1024 * 1024))
start=$SECONDS
size=0
for ((i = 0; i < MAX_S * 2; i++)); do
    size=$(stat -c %s "$OUT" 2>/dev/null || echo 0)
    [ "$size" -ge "$limit" ] && break
    kill -0 "$CAP_PID" 2>/dev/null || die "tcpdump exited early: $(cat "$TMP/tcpdump.log")"
    if ((i % 20 == 0)); then log "$((size / 1048576)) MiB after $((SECONDS - start)) s"; fi
    sleep 0.5
done
[ "$size" -ge "$limit" ] || log "warning: only $((size / 1048576)) MiB after ${MAX_S}s"

kill -INT "$CAP_PID"
wait "$CAP_PID" || true
CAP_PID=
touch "$STOP"
log "capture stopped after $((SECONDS - start)) s: $(stat -c %s "$OUT") bytes"
sed -n 's/^/[bench] tcpdump: /p' "$TMP/tcpdump.log" | grep -E 'captured|received|dropped' >&2 || true
dropped=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$TMP/tcpdump.log")
if [ "${dropped:-0}" != 0 ]; then
    log "warning: tcpdump dropped $dropped packets (the capture has holes that are not loss)"
fi
nsx "$RNS" nft list chain inet bench forward | sed -n 's/.*counter \(packets [0-9]*\).*/[bench] router dropped \1 (loss rule)/p' >&2
# Let the clients finish (the stop file ends their loops), then report them.
for pid in "${PIDS[@]:3}"; do
    for ((i = 0; i < (IPERF_S + 25) * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
done
cat "$TMP"/short-client-*.log >&2 || true
echo "$OUT"
