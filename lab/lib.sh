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
#   lab_server 30 reply_server.py --reply '200 OK {1993*x}\n' --requests 1 --then abort
#                            # lab/programs/PROGRAM in the server ns, bounded; waits for :8080
#   lab_capture_start        # tcpdump on cli0 -> $LAB_OUT/client.pcap, srv0 -> $LAB_OUT/server.pcap
#   lab_client 30 --timeout 10 "$SERVER_IP" connect 'send:GET /small\r\n' reset
#   lab_wait_pid "$LAB_SERVER_PID" 5
#   lab_capture_stop         # waits LAB_TAIL_S (0.5 s) for stragglers, SIGINT, waits for flush
#
# PROGRAMS (lab/programs/, Python standard library only; each documents its options at the top)
#   stream_server.py  accepts one connection, reads the request, sends data (a size, a number of
#                     writes or a duration; write size, pacing, fill, a marker in one write), closes
#   reply_server.py   request/response server: banner, reply per request (or per N-byte request),
#                     think time, then close, abort (RST) or drain; several connections in threads
#   client.py         runs STEPs: connect | refused | unanswered | send:TEXT | line | read:N |
#                     eof[:N] | idle:S | reset | sleep:S | close | abort, with socket options
#                     (--rcvbuf --keepalive --bind-port --timeout --nodelay --recv-size ...)
#   labtcp.py         helpers the three share (TEXT arguments: backslash escapes, {N*C} = N Cs)
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
# Building blocks of the scenarios:
#   lab_server SECONDS PROGRAM ARG... lab/programs/PROGRAM ARG... in the server ns via lab_bg;
#                                     sets LAB_SERVER_PID, waits until port 8080 listens
#   lab_client SECONDS ARG...         lab/programs/client.py ARG... in the client ns (foreground,
#                                     under timeout SECONDS)
#   lab_server_no_tlp                 net.ipv4.tcp_early_retrans=0 on the server unless LAB_TLP=1
#   lab_forwarder FLAG...             lab/forwarder.py rtc0 <-> rts0 in the router ns (--duration
#                                     80, bounded at 90 s) with impairment FLAGs; sets LAB_FWD_PID,
#                                     LAB_FWD_LOG
#   lab_forwarder_stop [PATTERN]      stop it, copy its log (minus lines with PATTERN) to stderr
#   lab_download SIZE [CLIENT_OPT...] the fwd-* bulk download: stream_server.py --size SIZE (one
#                                     write), capture, client.py --timeout 10 CLIENT_OPT... GET
#                                     /bulk to EOF, close; wait for the server, stop the captures
#   lab_nstat NS WHO COUNTER...       print kernel counters of NS to stderr ("[lab] WHO NAME=N")
#   lab_forward_rules RULE...         nft table inet lab in the router, forward hook, policy
#                                     accept, with these RULEs
#   lab_match_marker NS CHAIN MARKER TARGET...   iptables -A CHAIN in NS: TCP from the server's
#                                     port 8080 containing MARKER (-m string) -j TARGET...
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

# _lab_signal_all SIGNAL PID...: send SIGNAL to every PID, then wait for each of them.
_lab_signal_all() {
    local sig=$1 pid
    shift
    for pid in "$@"; do
        kill "-$sig" "$pid" 2>/dev/null || true
    done
    for pid in "$@"; do
        wait "$pid" 2>/dev/null || true
    done
}

lab_down() {
    _lab_signal_all INT "${LAB_CAP_PIDS[@]}"
    LAB_CAP_PIDS=()
    _lab_signal_all TERM "${LAB_PIDS[@]}"
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
    _lab_signal_all INT "${LAB_CAP_PIDS[@]}"
    LAB_CAP_PIDS=()
    grep -h 'packets captured\|dropped by kernel' "$LAB_TMP"/cap-*.log 2>/dev/null |
        sed 's/^/[lab] tcpdump: /' >&2 || true
    # A capture that lost packets does not show what happened: fail the scenario.
    if grep -h 'dropped by kernel' "$LAB_TMP"/cap-*.log 2>/dev/null | grep -qv '^0 packets'; then
        lab_die "tcpdump dropped packets (raise LAB_CAPTURE_BUFFER_KB)"
    fi
}

# ---- Building blocks shared by the scenarios (see FUNCTIONS in the header) ----

# lab_server_no_tlp: no tail-loss probe on the server (net.ipv4.tcp_early_retrans=0) unless
# LAB_TLP=1. On the sub-millisecond path an ACK delayed ~40 ms by the client occasionally lets
# the TLP fire first, adding a spurious retransmission in some runs and not in others.
lab_server_no_tlp() {
    [ "${LAB_TLP:-0}" = 1 ] || lab_sysctl "$SERVER_NS" net.ipv4.tcp_early_retrans=0
}

# lab_server SECONDS PROGRAM ARG...: lab/programs/PROGRAM in the server namespace, in the
# background under `timeout SECONDS`; sets LAB_SERVER_PID and waits until port 8080 listens.
lab_server() {
    local secs=$1 prog=$2
    shift 2
    lab_bg "$SERVER_NS" "$secs" "$LAB_PYTHON" "$LAB_DIR/programs/$prog" "$@"
    # shellcheck disable=SC2034  # used by the scenarios
    LAB_SERVER_PID=$LAB_LAST_PID
    lab_wait_listen "$SERVER_NS" 8080
}

# lab_client SECONDS ARG...: lab/programs/client.py ARG... in the client namespace, in the
# foreground under `timeout SECONDS`.
lab_client() {
    local secs=$1
    shift
    lab_client_exec timeout "$secs" "$LAB_PYTHON" "$LAB_DIR/programs/client.py" "$@"
}

# lab_forwarder ARG...: lab/forwarder.py between rtc0 and rts0 in the router namespace
# (LAB_FORWARD=user), for 80 s at most, with the impairment flags ARG...; sets LAB_FWD_PID and
# LAB_FWD_LOG (its output).
lab_forwarder() {
    LAB_FWD_LOG=$LAB_TMP/bg-${#LAB_PIDS[@]}.log
    lab_bg "$ROUTER_NS" 90 "$LAB_PYTHON" "$LAB_DIR/forwarder.py" --client-if "$ROUTER_CIF" \
        --server-if "$ROUTER_SIF" --duration 80 "$@"
    LAB_FWD_PID=$LAB_LAST_PID
}

# lab_forwarder_stop [PATTERN]: stop the forwarder and copy its log (counters, socket drops) to
# stderr, without the lines that contain PATTERN if one is given.
# shellcheck disable=SC2120  # the pattern argument is optional
lab_forwarder_stop() {
    lab_kill "$LAB_FWD_PID"
    if [ $# -gt 0 ]; then
        grep -v -- "$1" "$LAB_FWD_LOG" | sed 's/^/[lab] /' >&2 || true
    else
        sed 's/^/[lab] /' "$LAB_FWD_LOG" >&2
    fi
}

# lab_download SIZE [CLIENT_OPTION...]: the bulk download of the fwd-* scenarios, captured at both
# ends: stream_server.py sends SIZE bytes (bytes 0..255 repeated) in one write and closes;
# client.py --timeout 10 CLIENT_OPTION... asks "GET /bulk", reads to EOF and closes.
lab_download() {
    local size=$1
    shift
    lab_server 60 stream_server.py --size "$size"
    lab_capture_start
    lab_client 60 --timeout 10 "$@" "$SERVER_IP" connect 'send:GET /bulk\r\n' eof close
    lab_wait_pid "$LAB_SERVER_PID" 10
    lab_capture_stop
}

# lab_nstat NS WHO COUNTER...: print the kernel counters of NS to stderr as "[lab] WHO NAME=VALUE".
lab_nstat() {
    local ns=$1 who=$2
    shift 2
    ip netns exec "$ns" nstat -az "$@" |
        sed -n "s/^\([A-Za-z]\+\) \+\([0-9]\+\).*/[lab] $who \1=\2/p" >&2
}

# lab_forward_rules RULE...: an nft table "inet lab" in the router whose forward-hook chain
# (policy accept) holds the RULEs, one a line, in order.
lab_forward_rules() {
    {
        echo "table inet lab {"
        echo "  chain filter_forward {"
        echo "    type filter hook forward priority 0; policy accept;"
        printf '    %s\n' "$@"
        echo "  }"
        echo "}"
    } | lab_nft "$ROUTER_NS"
}

# lab_match_marker NS CHAIN MARKER TARGET...: iptables rule in NS: TCP from the server's port 8080
# whose payload contains MARKER (-m string --algo bm) goes to TARGET... (e.g. DROP).
lab_match_marker() {
    local ns=$1 chain=$2 marker=$3
    shift 3
    ip netns exec "$ns" iptables -A "$chain" -p tcp -s "$SERVER_IP" --sport 8080 \
        -m string --algo bm --string "$marker" -j "$@"
}
