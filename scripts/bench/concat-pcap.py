#!/usr/bin/env python3
"""concat-pcap.py IN.pcap OUT.pcap COPIES: IN repeated COPIES times, as one longer capture.

Copy k (k = 0 .. COPIES-1) is IN with every timestamp shifted by k * SPAN seconds (SPAN = IN's
duration rounded up, plus one second: the copies follow each other and never overlap) and every
TCP port >= 10000 (the clients' ephemeral ports; the benchmark's servers listen on 5201, 5202 and
8080) mapped to 10000 + (port - 10000 + k * 7919) mod 55536, with the TCP checksum updated
incrementally (RFC 1624), so the connections of each copy are new connections, not the old ones
again. Copy 0 is IN unchanged. Only classic pcap (either byte order, micro- or nanosecond), link
type Ethernet, IPv4 or IPv6 without extension headers; other frames are copied with only their
timestamps shifted. Standard library only. Prints the number of records written.
"""
import struct
import sys
from array import array

PORT_MIN, PORT_SPAN, STEP = 10000, 55536, 7919


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n")[0])
    src, dst, copies = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(src, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        sys.exit(f"{src}: not a classic pcap file (pcapng is not supported)")
    linktype = struct.unpack_from(end + "I", data, 20)[0]
    if linktype != 1:
        sys.exit(f"{src}: link type {linktype}, only Ethernet (1) is supported")

    rec_hdr = struct.Struct(end + "IIII")
    u32 = struct.Struct(end + "I")
    be16 = struct.Struct(">H")
    ports_s = struct.Struct(">HH")

    # One pass over IN: the offset of every record and of its TCP header (0: not TCP / too short).
    recs = array("q")
    tcps = array("q")
    off, n = 24, len(data)
    first_ts = last_ts = None
    while off + 16 <= n:
        ts, _, caplen, _ = rec_hdr.unpack_from(data, off)
        if first_ts is None:
            first_ts = ts
        last_ts = ts
        p = off + 16
        if p + caplen > n:
            break  # truncated last record: dropped
        tcp = 0
        if caplen >= 14:
            etype = be16.unpack_from(data, p + 12)[0]
            l3 = p + 14
            if etype == 0x8100 and caplen >= 18:
                etype = be16.unpack_from(data, p + 16)[0]
                l3 += 4
            if etype == 0x0800 and l3 + 20 <= p + caplen:
                ihl = (data[l3] & 0x0F) * 4
                frag = be16.unpack_from(data, l3 + 6)[0] & 0x1FFF
                if data[l3 + 9] == 6 and frag == 0:
                    tcp = l3 + ihl
            elif etype == 0x86DD and l3 + 40 <= p + caplen and data[l3 + 6] == 6:
                tcp = l3 + 40
            if tcp and tcp + 18 > p + caplen:
                tcp = 0  # ports or checksum not captured: leave the ports alone
        recs.append(off)
        tcps.append(tcp)
        off = p + caplen
    end_off = off
    span = (last_ts - first_ts + 1 if first_ts is not None else 0) + 1

    def fold(s):
        s = (s & 0xFFFF) + (s >> 16)
        return (s & 0xFFFF) + (s >> 16)

    with open(dst, "wb") as out:
        out.write(data[:end_off])  # copy 0: unchanged
        for k in range(1, copies):
            buf = bytearray(data[24:end_off])
            shift = k * span
            pmap = list(range(PORT_MIN)) + [
                PORT_MIN + (p - PORT_MIN + k * STEP) % PORT_SPAN for p in range(PORT_MIN, 65536)
            ]
            for i in range(len(recs)):
                o = recs[i] - 24
                u32.pack_into(buf, o, u32.unpack_from(buf, o)[0] + shift)
                t = tcps[i]
                if t:
                    t -= 24
                    sp, dp = ports_s.unpack_from(buf, t)
                    nsp, ndp = pmap[sp], pmap[dp]
                    if nsp != sp or ndp != dp:
                        ports_s.pack_into(buf, t, nsp, ndp)
                        c = be16.unpack_from(buf, t + 16)[0]
                        s = (~c & 0xFFFF) + (~sp & 0xFFFF) + nsp + (~dp & 0xFFFF) + ndp
                        be16.pack_into(buf, t + 16, ~fold(s) & 0xFFFF)
            out.write(buf)
            print(f"concat-pcap: copy {k + 1}/{copies} written", file=sys.stderr)
    print(len(recs) * copies)


if __name__ == "__main__":
    main()
