#!/usr/bin/env bash
# fwd-spurious-rto: an RTT spike fires the sender's RTO although nothing is lost.
# The user-space forwarder (lab/forwarder.py, LAB_FORWARD=user) gives the path LAB_DELAY_MS
# (default 5) ms of delay each way (~10 ms RTT). The server streams LAB_CHUNK (default 2896) bytes
# every LAB_INTERVAL_MS (default 10) ms for LAB_STREAM_S (default 3) s, then closes; the client
# reads to EOF and closes. LAB_SPIKE_AT_S (default 1.0) s after the SYN, for LAB_SPIKE_S (default
# 1.0) s, every packet of direction LAB_SPIKE_DIR (default s2c = the data) waits LAB_SPIKE_MS
# (default 400) ms more, in order (a queue, nothing is dropped or overtaken). The server's RTO
# (~210 ms) expires before the data in the queue is ACKed: it retransmits the oldest unACKed
# segment; the original then arrives at the client and is ACKed, the retransmission arrives later
# as a duplicate and the client answers with a D-SACK; the server undoes the cwnd reduction.
# Knobs: LAB_DELAY_MS LAB_CHUNK LAB_INTERVAL_MS LAB_STREAM_S LAB_SPIKE_AT_S LAB_SPIKE_S
#        LAB_SPIKE_MS LAB_SPIKE_DIR (s2c | c2s: delaying the ACKs has the same effect).
#        LAB_SPIKE_MS must exceed about 350 ms on the default 10 ms path: with less, a tail-loss
#        probe re-arms the retransmission timer and the ACKs return before it fires, so no
#        retransmission happens at all (seen at 250 and 300 ms).
set -euo pipefail
export LAB_FORWARD=user
# shellcheck source=SCRIPTDIR/../lib.sh
. "$(dirname "$0")/../lib.sh"
lab_init "$@"
delay=${LAB_DELAY_MS:-5} chunk=${LAB_CHUNK:-2896} interval=${LAB_INTERVAL_MS:-10}
stream_s=${LAB_STREAM_S:-3} spike_at=${LAB_SPIKE_AT_S:-1.0} spike_s=${LAB_SPIKE_S:-1.0}
spike_ms=${LAB_SPIKE_MS:-400} spike_dir=${LAB_SPIKE_DIR:-s2c}

lab_forwarder --delay-ms "$delay" --spike "$spike_at" "$spike_s" "$spike_ms" "$spike_dir"
lab_server 60 stream_server.py --duration "$stream_s" --write "$chunk" --interval-ms "$interval" \
    --fill letters
lab_capture_start
lab_client 60 --timeout 10 "$SERVER_IP" connect 'send:GET /stream\r\n' eof close
lab_wait_pid "$LAB_SERVER_PID" 10
lab_capture_stop
lab_forwarder_stop
lab_nstat "$SERVER_NS" server TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPLossProbes \
    TcpExtTCPDSACKRecv TcpExtTCPSpuriousRTOs TcpExtTCPLossUndo
