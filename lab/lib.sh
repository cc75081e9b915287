# shellcheck shell=bash
# lab/lib.sh: shared topology and capture functions for the tcpsleuth lab scenarios.
# Sourced (never executed) by every lab/scenarios/*.sh. Needs root, iproute2, nft, iptables,
# ethtool, tcpdump, python3. Traffic stays inside the namespaces created here (10.88.x.x).
#
# TOPOLOGY (one set of namespaces per run; names are unique per run so runs can go in parallel)
#
#   $CLIENT_NS                     $ROUTER_NS                        $SERVER_NS
#   $CLIENT_IF  ---- veth ----  $ROUTER_CIF  |  $ROUTER_SIF  ---- veth ----  $SERVER_IF
#   cli0 10.88.1.2/24          rtc0 10.88.1.1/24   rts0 10.88.2.1/24         srv0 10.88.2.2/24
#
#   Variables: CLIENT_NS ROUTER_NS SERVER_NS          (network namespace names)
#              CLIENT_IF ROUTER_CIF ROUTER_SIF SERVER_IF    (interface names: cli0 rtc0 rts0 srv0)
#              CLIENT_IP ROUTER_CIP ROUTER_SIP SERVER_IP    (10.88.1.2 10.88.1.1 10.88.2.1 10.88.2.2)
#              CLIENT_MAC ROUTER_CMAC ROUTER_SMAC SERVER_MAC (fixed, see below)
#              CLIENT_NET SERVER_NET                  (10.88.1.0/24 10.88.2.0/24)
#              LAB_OUT      output directory of the scenario (client.pcap, server.pcap go there)
#              LAB_DIR      the lab/ directory, LAB_TMP a private temp dir (removed by lab_down)
#   Client and server are in different subnets: the router decrements the TTL (client and server
#   send with TTL 64, so the peer's packets arrive with 63; a RST made by the router arrives with
#   64). MAC addresses are fixed and every neighbour entry is static (nud permanent): no ARP at
#   all, and a user-space forwarder knows every MAC without asking. IPv6 is disabled in all three
#   namespaces. Offloads are off on every veth end (tx sg tso gso gro) unless LAB_OFFLOAD names
#   an interface to leave them on (or a scenario calls lab_offload_on NS IF later).
#
# FORWARDING MODE: LAB_FORWARD=kernel (default) or user
#   kernel: the router's kernel forwards (net.ipv4.ip_forward=1); nft/iptables rules in the router
#           (forward hook / FORWARD chain) act on the forwarded traffic.
#   user:   net.ipv4.ip_forward=0 in the router, so its kernel drops what it receives for others
#           (silently, no ICMP); a user-space forwarder must carry the traffic, e.g. after lab_up:
#             lab_bg "$ROUTER_NS" 60 python3 "$LAB_DIR/forwarder.py" --in "$ROUTER_CIF" --out "$ROUTER_SIF" ...
#             FWD_PID=$LAB_LAST_PID          # lab_down stops it; or: lab_kill "$FWD_PID"
#           (equivalently: ip netns exec "$ROUTER_NS" python3 lab/forwarder.py --in IF --out IF ...).
#           It must decrement the TTL, fix the IP checksum and rewrite the MACs:
#           frames client->server leave $ROUTER_SIF with src $ROUTER_SMAC dst $SERVER_MAC,
#           frames server->client leave $ROUTER_CIF with src $ROUTER_CMAC dst $CLIENT_MAC.
#   lab_router_exec CMD... runs CMD in the router namespace in either mode.
#
# A SCENARIO SCRIPT looks like this (usage: lab/scenarios/NAME.sh OUTDIR):
#   #!/usr/bin/env bash
#   set -euo pipefail
#   . "$(dirname "$0")/../lib.sh"
#   lab_init "$@"            # LAB_OUT=$1 (created), lab_up, trap lab_down on EXIT/INT/TERM
#   lab_bg "$SERVER_NS" 30 python3 -c "$server_code"   # background, bounded, PID remembered
#   lab_wait_listen "$SERVER_NS" 8080
#   lab_capture_start        # tcpdump on cli0 -> $LAB_OUT/client.pcap, srv0 -> $LAB_OUT/server.pcap
#   lab_client_exec timeout 30 python3 -c "$client_code"
#   lab_capture_stop         # waits LAB_TAIL_S (0.5 s) for stragglers, SIGINT, waits for flush
#
# FUNCTIONS
#   lab_init OUTDIR                   set LAB_OUT, lab_up, install the cleanup trap
#   lab_up / lab_down                 create / destroy namespaces (lab_down is idempotent: kills
#                                     lab_bg processes and captures by PID, deletes namespaces)
#   lab_client_exec / lab_router_exec / lab_server_exec CMD...   run CMD in that namespace
#   lab_ns_exec NS CMD...             same, any namespace
#   lab_bg NS SECONDS CMD...          run CMD in NS in the background under `timeout SECONDS`;
#                                     sets LAB_LAST_PID (do not call it in $(...))
#   lab_kill PID [SIGNAL]             signal one lab_bg process (default TERM) and wait for it
#   lab_wait_pid PID [SECONDS]        wait (bounded) for a lab_bg process to exit by itself
#   lab_wait_listen NS PORT [SECONDS] wait until something listens on TCP PORT in NS
#   lab_capture_start [SNAPLEN]       start both captures (default LAB_SNAPLEN=160; 0 = whole
#                                     packets); filter LAB_FILTER (default "tcp"). tcpdump runs
#                                     with --immediate-mode: without it the packets of the last
#                                     second are never written when tcpdump is stopped.
#   lab_capture_stop                  stop both captures (SIGINT) and wait until they are flushed
#   lab_nft NS                        load an nft ruleset from stdin into NS (nft -f -)
#   lab_offload_on NS IF              turn tx/sg/tso/gso/gro on for one interface
#   lab_sysctl NS KEY=VALUE...        sysctl -qw in NS
#
# KNOBS common to all scenarios (scenarios document their own in their header and lab/README.md):
#   LAB_FORWARD=kernel|user  LAB_SNAPLEN=160  LAB_FILTER=tcp  LAB_TAIL_S=0.5  LAB_PYTHON=python3
#   LAB_CAPTURE_BUFFER_KB=32768  tcpdump -B (the default 2 MB ring drops 64 KB TSO frames)
#   LAB_OFFLOAD="IF ..."     interfaces to leave offloads on (e.g. "srv0")
#   LAB_KEEP=1               keep LAB_TMP (logs of background processes) for debugging
#   LAB_VERBOSE=1            trace the commands (set -x)

LAB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LAB_PYTHON="${LAB_PYTHON:-python3}"
LAB_FORWARD="${LAB_FORWARD:-kernel}"
LAB_SNAPLEN="${LAB_SNAPLEN:-160}"
LAB_FILTER="${LAB_FILTER:-tcp}"
LAB_TAIL_S="${LAB_TAIL_S:-0.5}"
LAB_CAPTURE_BUFFER_KB="${LAB_CAPTURE_BUFFER_KB:-32768}"
LAB_OFFLOAD="${LAB_OFFLOAD:-}"

CLIENT_IF=cli0 ROUTER_CIF=rtc0 ROUTER_SIF=rts0 SERVER_IF=srv0
CLIENT_IP=10.88.1.2 ROUTER_CIP=10.88.1.1 ROUTER_SIP=10.88.2.1 SERVER_IP=10.88.2.2
CLIENT_NET=10.88.1.0/24 SERVER_NET=10.88.2.0/24
CLIENT_MAC=02:88:01:00:00:02 ROUTER_CMAC=02:88:01:00:00:01
ROUTER_SMAC=02:88:02:00:00:01 SERVER_MAC=02:88:02:00:00:02
# shellcheck disable=SC2034  # used by the scenarios that source this file
export CLIENT_IF ROUTER_CIF ROUTER_SIF SERVER_IF CLIENT_IP ROUTER_CIP ROUTER_SIP SERVER_IP \
    CLIENT_NET SERVER_NET CLIENT_MAC ROUTER_CMAC ROUTER_SMAC SERVER_MAC LAB_DIR

LAB_PIDS=()
LAB_CAP_PIDS=()
LAB_UP=0
LAB_LAST_PID=

lab_log() { echo "[lab $(date +%T.%3N)] $*" >&2; }
lab_die() { echo "[lab] error: $*" >&2; exit 1; }

lab_ns_exec() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
lab_client_exec() { ip netns exec "$CLIENT_NS" "$@"; }
lab_router_exec() { ip netns exec "$ROUTER_NS" "$@"; }
lab_server_exec() { ip netns exec "$SERVER_NS" "$@"; }

lab_sysctl() {
    local ns=$1; shift
    local kv
    for kv in "$@"; do ip netns exec "$ns" sysctl -qw "$kv" >/dev/null; done
}

lab_offload_on() {
    ip netns exec "$1" ethtool -K "$2" tx on sg on tso on gso on gro on >/dev/null 2>&1 || true
}

lab_offload_off() {
    ip netns exec "$1" ethtool -K "$2" tx off sg off tso off gso off gro off >/dev/null 2>&1 || true
}

lab_nft() { ip netns exec "$1" nft -f -; }

lab_up() {
    [ "$(id -u)" = 0 ] || lab_die "must run as root"
    case "$LAB_FORWARD" in kernel|user) ;; *) lab_die "LAB_FORWARD must be kernel or user" ;; esac
    local tag
    tag="lab$$x$RANDOM"
    CLIENT_NS=${tag}c ROUTER_NS=${tag}r SERVER_NS=${tag}s
    export CLIENT_NS ROUTER_NS SERVER_NS
    LAB_TMP="$(mktemp -d /tmp/tcpsleuth-lab.XXXXXX)"
    export LAB_TMP
    LAB_UP=1
    local ns
    for ns in "$CLIENT_NS" "$ROUTER_NS" "$SERVER_NS"; do
        ip netns add "$ns"
        lab_sysctl "$ns" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip netns exec "$ns" ip link set lo up
    done
    ip link add "$CLIENT_IF" netns "$CLIENT_NS" address "$CLIENT_MAC" type veth \
        peer name "$ROUTER_CIF" netns "$ROUTER_NS" address "$ROUTER_CMAC"
    ip link add "$SERVER_IF" netns "$SERVER_NS" address "$SERVER_MAC" type veth \
        peer name "$ROUTER_SIF" netns "$ROUTER_NS" address "$ROUTER_SMAC"
    local pair
    for pair in "$CLIENT_NS $CLIENT_IF" "$ROUTER_NS $ROUTER_CIF" "$ROUTER_NS $ROUTER_SIF" \
        "$SERVER_NS $SERVER_IF"; do
        # shellcheck disable=SC2086
        set -- $pair
        ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" >/dev/null 2>&1 || true
        case " $LAB_OFFLOAD " in
            *" $2 "*) lab_offload_on "$1" "$2" ;;
            *) lab_offload_off "$1" "$2" ;;
        esac
        ip netns exec "$1" ip link set "$2" up
    done
    lab_client_exec ip addr add "$CLIENT_IP/24" dev "$CLIENT_IF"
    lab_router_exec ip addr add "$ROUTER_CIP/24" dev "$ROUTER_CIF"
    lab_router_exec ip addr add "$ROUTER_SIP/24" dev "$ROUTER_SIF"
    lab_server_exec ip addr add "$SERVER_IP/24" dev "$SERVER_IF"
    lab_client_exec ip route add "$SERVER_NET" via "$ROUTER_CIP" dev "$CLIENT_IF"
    lab_server_exec ip route add "$CLIENT_NET" via "$ROUTER_SIP" dev "$SERVER_IF"
    # Static neighbours: no ARP traffic, and the MACs are known to everyone.
    lab_client_exec ip neigh replace "$ROUTER_CIP" lladdr "$ROUTER_CMAC" dev "$CLIENT_IF" nud permanent
    lab_router_exec ip neigh replace "$CLIENT_IP" lladdr "$CLIENT_MAC" dev "$ROUTER_CIF" nud permanent
    lab_router_exec ip neigh replace "$SERVER_IP" lladdr "$SERVER_MAC" dev "$ROUTER_SIF" nud permanent
    lab_server_exec ip neigh replace "$ROUTER_SIP" lladdr "$ROUTER_SMAC" dev "$SERVER_IF" nud permanent
    if [ "$LAB_FORWARD" = kernel ]; then
        lab_sysctl "$ROUTER_NS" net.ipv4.ip_forward=1
    else
        lab_sysctl "$ROUTER_NS" net.ipv4.ip_forward=0
    fi
}

lab_down() {
    local pid
    for pid in "${LAB_CAP_PIDS[@]}"; do
        kill -INT "$pid" 2>/dev/null || true
    done
    for pid in "${LAB_CAP_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    LAB_CAP_PIDS=()
    for pid in "${LAB_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${LAB_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    LAB_PIDS=()
    if [ "$LAB_UP" = 1 ]; then
        local ns
        for ns in "$CLIENT_NS" "$ROUTER_NS" "$SERVER_NS"; do
            ip netns del "$ns" 2>/dev/null || true
        done
        if [ -n "${LAB_TMP:-}" ] && [ "${LAB_KEEP:-0}" != 1 ]; then
            rm -rf "$LAB_TMP"
        elif [ -n "${LAB_TMP:-}" ]; then
            lab_log "kept $LAB_TMP"
        fi
        LAB_UP=0
    fi
}

lab_init() {
    [ $# -ge 1 ] || lab_die "usage: $0 OUTDIR"
    [ "${LAB_VERBOSE:-0}" = 1 ] && set -x
    mkdir -p "$1"
    LAB_OUT="$(cd "$1" && pwd)"
    export LAB_OUT
    trap lab_down EXIT
    trap 'lab_down; exit 130' INT
    trap 'lab_down; exit 143' TERM
    lab_up
}

# lab_bg NS SECONDS CMD...: background process in NS, bounded by timeout; its stdout/stderr go to
# $LAB_TMP/bg-N.log (N = 0, 1, ... in start order; kept with LAB_KEEP=1). Sets LAB_LAST_PID.
lab_bg() {
    local ns=$1 secs=$2; shift 2
    local n=${#LAB_PIDS[@]}
    ip netns exec "$ns" timeout "$secs" "$@" >"$LAB_TMP/bg-$n.log" 2>&1 &
    LAB_LAST_PID=$!
    LAB_PIDS+=("$LAB_LAST_PID")
}

lab_kill() {
    local pid=$1 sig=${2:-TERM}
    kill "-$sig" "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

lab_wait_pid() {
    local pid=$1 secs=${2:-30} i
    for ((i = 0; i < secs * 20; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.05
    done
    lab_log "process $pid still running after ${secs}s"
    return 1
}

lab_wait_listen() {
    local ns=$1 port=$2 secs=${3:-10} i
    for ((i = 0; i < secs * 20; i++)); do
        if ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
            return 0
        fi
        sleep 0.05
    done
    lab_die "nothing listens on port $port in $ns after ${secs}s"
}

_lab_capture_one() {
    local ns=$1 ifname=$2 file=$3 snap=$4 log=$5
    ip netns exec "$ns" timeout 300 tcpdump -n -Z root --immediate-mode -B "$LAB_CAPTURE_BUFFER_KB" -i "$ifname" -s "$snap" -w "$file" \
        "$LAB_FILTER" 2>"$log" &
    LAB_CAP_PIDS+=("$!")
}

# shellcheck disable=SC2120  # the snaplen argument is optional
lab_capture_start() {
    local snap=${1:-$LAB_SNAPLEN}
    rm -f "$LAB_OUT/client.pcap" "$LAB_OUT/server.pcap"
    _lab_capture_one "$CLIENT_NS" "$CLIENT_IF" "$LAB_OUT/client.pcap" "$snap" "$LAB_TMP/cap-client.log"
    _lab_capture_one "$SERVER_NS" "$SERVER_IF" "$LAB_OUT/server.pcap" "$snap" "$LAB_TMP/cap-server.log"
    local i
    for ((i = 0; i < 200; i++)); do
        if grep -q 'listening on' "$LAB_TMP/cap-client.log" 2>/dev/null &&
            grep -q 'listening on' "$LAB_TMP/cap-server.log" 2>/dev/null; then
            sleep 0.2
            return 0
        fi
        sleep 0.05
    done
    lab_die "tcpdump did not start: $(cat "$LAB_TMP"/cap-*.log)"
}

lab_capture_stop() {
    sleep "$LAB_TAIL_S"
    local pid
    for pid in "${LAB_CAP_PIDS[@]}"; do
        kill -INT "$pid" 2>/dev/null || true
    done
    for pid in "${LAB_CAP_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    LAB_CAP_PIDS=()
    grep -h 'packets captured\|dropped by kernel' "$LAB_TMP"/cap-*.log 2>/dev/null |
        sed 's/^/[lab] tcpdump: /' >&2 || true
    # A capture that lost packets does not show what happened: fail the scenario.
    if grep -h 'dropped by kernel' "$LAB_TMP"/cap-*.log 2>/dev/null | grep -qv '^0 packets'; then
        lab_die "tcpdump dropped packets (raise LAB_CAPTURE_BUFFER_KB)"
    fi
}
