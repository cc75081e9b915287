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
# It is healthy-bulk.sh with LAB_OFFLOAD=srv0, LAB_SNAPLEN=0 and this LAB_SIZE default.
set -euo pipefail
LAB_OFFLOAD="${LAB_OFFLOAD:-srv0}" LAB_SIZE="${LAB_SIZE:-200000}" LAB_SNAPLEN=0 \
    exec "$(dirname "$0")/healthy-bulk.sh" "$@"
