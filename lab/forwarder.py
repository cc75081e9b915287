#!/usr/bin/env python3
"""User-space IPv4 forwarder for the tcpsleuth lab: delay, RTT spikes, reordering, corruption, loss.

Why it exists: the lab machines have no `tc netem`, and nftables can only drop packets (its random
loss, `numgen random`, cannot be seeded). To delay, hold back, reorder or corrupt packets we run
this forwarder in the router namespace with `net.ipv4.ip_forward=0`: the router's kernel drops
its own copy of every transit packet (silently: no ICMP while forwarding is off) but still answers
ARP and pings for its own addresses, and this program forwards instead. It reads every frame on
the router's two interfaces with AF_PACKET raw sockets; for each IPv4 packet addressed to the
router's MAC whose destination lies in the *other* interface's subnet it decrements the TTL (drops
at 0), fixes the IP header checksum, rewrites the Ethernet addresses and sends it out the other
interface after the impairments below. Non-IPv4 frames (ARP) are never forwarded: each subnet
resolves the router's own address, and the forwarder resolves the endpoints' MACs itself (frames
it has seen, the kernel's /proc/net/arp, else its own ARP request).

Turn offloads off on every veth end (`ethtool -K IF tx off sg off tso off gso off gro off`):
with transmit checksum offload the endpoints hand over packets with unfinished (partial) TCP
checksums, which this forwarder would pass on broken; with GRO it would receive > MTU frames.

Directions: c2s = received on --client-if (sent toward the server), s2c = the reverse.
Impairments (a TCP segment is "data" when it carries payload):
  --delay-ms N [--delay-c2s-ms N] [--delay-s2c-ms N]   constant one-way delay, order preserved
  --spike START_S DURATION_S EXTRA_MS DIR   from START_S s after the first forwarded SYN, for
        DURATION_S s, every packet of DIR waits EXTRA_MS more (FIFO: nothing overtakes)
  --reorder-marker BYTES  hold the first data segment containing BYTES (first copy only) ...
  --reorder-every N [--reorder-dir DIR]     ... or every Nth data segment of DIR ...
        ... for --reorder-hold-ms ms or until --reorder-hold-pkts later packets of its direction
        have overtaken it, whichever comes first
  --corrupt-marker BYTES  flip one bit of the TCP checksum of the first segment containing BYTES
        (later copies, i.e. retransmissions, pass): the receiver's kernel drops it
  --drop-permille K [--drop-dir DIR] [--drop-all] [--seed S]  random loss of data segments
        (of every IPv4 packet with --drop-all), reproducible with --seed
Bounded: exits after --duration seconds, on SIGTERM or SIGINT; prints counters to stderr.
"""
import argparse, fcntl, heapq, itertools, random, select, signal, socket, struct, sys, time

ETH_P_ALL, ETH_P_IP, ETH_P_ARP = 0x0003, 0x0800, 0x0806
PACKET_HOST, PACKET_OUTGOING = 0, 4
SIOCGIFADDR, SIOCGIFNETMASK = 0x8915, 0x891B
SOL_PACKET, PACKET_STATISTICS = 263, 6
SO_RCVBUFFORCE = 33


def csum(data):
    """Internet checksum (RFC 1071) of bytes of even length."""
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Side:
    """One router interface: its raw socket, MAC, IPv4 address and subnet."""

    def __init__(self, name, ifname):
        self.name, self.ifname = name, ifname
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind((ifname, ETH_P_ALL))
        try:  # a big queue: the forwarder must not become an unplanned source of loss
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
        self.sock.setblocking(False)
        with open("/sys/class/net/%s/address" % ifname) as f:
            self.mac = bytes.fromhex(f.read().strip().replace(":", ""))
        req = struct.pack("256s", ifname.encode())
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            self.ip = fcntl.ioctl(s.fileno(), SIOCGIFADDR, req)[20:24]
            self.mask = fcntl.ioctl(s.fileno(), SIOCGIFNETMASK, req)[20:24]

    def on_link(self, ip):
        m = int.from_bytes(self.mask, "big")
        return int.from_bytes(ip, "big") & m == int.from_bytes(self.ip, "big") & m

    def stats(self):
        packets, drops = struct.unpack("II", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))
        return packets, drops


class Forwarder:
    def __init__(self, a):
        self.a = a
        self.sides = {"c2s": (Side("client", a.client_if), Side("server", a.server_if))}
        self.sides["s2c"] = tuple(reversed(self.sides["c2s"]))
        self.delay = {"c2s": a.delay_c2s_ms / 1e3, "s2c": a.delay_s2c_ms / 1e3}
        self.rng = random.Random(a.seed)
        self.queue, self.seq = [], itertools.count()   # heap of (release, seq, direction, frame)
        self.tail = {"c2s": 0.0, "s2c": 0.0}           # FIFO: release time of the last queued packet
        self.held = {"c2s": [], "s2c": []}              # [deadline, packets still to overtake, frame]
        self.neigh, self.pending, self.arp_sent = {}, {}, {}
        self.data_count = {"c2s": 0, "s2c": 0}
        self.reorder_done = self.corrupt_done = False
        self.t_syn = None
        self.n = dict(forwarded=0, ttl_expired=0, dropped=0, held=0, corrupted=0, spiked=0,
                      unresolved=0)
        self.t0 = time.monotonic()

    def log(self, msg):
        if not self.a.quiet:
            print("forwarder %8.3f %s" % (time.monotonic() - self.t0, msg), file=sys.stderr, flush=True)

    # ---- receive -----------------------------------------------------------------------------
    def receive(self, direction, now):
        side_in, side_out = self.sides[direction]
        while True:
            try:
                frame, addr = side_in.sock.recvfrom(65600)
            except BlockingIOError:
                return
            if addr[2] == PACKET_OUTGOING or len(frame) < 34:
                continue
            etype = struct.unpack("!H", frame[12:14])[0]
            if etype == ETH_P_ARP:
                self.learn_arp(side_in, frame)
                continue
            if etype != ETH_P_IP or addr[2] != PACKET_HOST or frame[14] >> 4 != 4:
                continue
            src, dst = frame[26:30], frame[30:34]
            if side_in.on_link(src):
                self.learn(side_in, src, frame[6:12])
            if dst == side_in.ip or dst == side_out.ip or not side_out.on_link(dst):
                continue  # for the router itself (its kernel handles it) or not routable here
            self.impair(direction, bytearray(frame), now)

    # ---- impairments -------------------------------------------------------------------------
    def impair(self, d, frame, now):
        a, ihl = self.a, (frame[14] & 0x0F) * 4
        tcp = 14 + ihl if frame[23] == 6 else None
        payload = b""
        if tcp is not None:
            total = struct.unpack("!H", frame[16:18])[0]
            payload = bytes(frame[tcp + (frame[tcp + 12] >> 4) * 4: 14 + total])
            if frame[tcp + 13] & 0x02 and self.t_syn is None:
                self.t_syn = now
                self.log("first SYN (%s)%s" % (d, ": the spike starts %ss later" % a.spike[0] if a.spike else ""))
        if payload:
            self.data_count[d] += 1
        if a.drop_permille and a.drop_dir in ("both", d) and (payload or a.drop_all):
            if self.rng.randrange(1000) < a.drop_permille:
                self.n["dropped"] += 1
                self.log("drop %s %s" % (d, self.describe(frame, tcp, payload)))
                return
        if a.corrupt_marker and not self.corrupt_done and a.corrupt_marker in payload:
            self.corrupt_done = True
            frame[tcp + 17] ^= 0x01  # one bit of the TCP checksum
            self.n["corrupted"] += 1
            self.log("corrupt TCP checksum %s %s" % (d, self.describe(frame, tcp, payload)))
        hold = False
        if payload and a.reorder_marker and not self.reorder_done and a.reorder_marker in payload:
            hold = self.reorder_done = True
        if payload and a.reorder_every and a.reorder_dir in ("both", d) \
                and self.data_count[d] % a.reorder_every == 0:
            hold = True
        release = now + self.delay[d]
        if a.spike and self.t_syn is not None and d == a.spike[3]:
            start = self.t_syn + float(a.spike[0])
            if start <= now < start + float(a.spike[1]):
                release += float(a.spike[2]) / 1e3
                self.n["spiked"] += 1
        if hold:
            self.n["held"] += 1
            self.log("hold %s %s" % (d, self.describe(frame, tcp, payload)))
            self.held[d].append([release + a.reorder_hold_ms / 1e3, a.reorder_hold_pkts, frame])
            return
        release = max(release, self.tail[d])
        self.tail[d] = release
        self.push(release, d, frame)
        for h in list(self.held[d]):  # this packet overtook the held ones
            h[1] -= 1
            if h[1] <= 0:
                self.held[d].remove(h)
                self.push(release, d, h[2])

    def describe(self, frame, tcp, payload):
        if tcp is None:
            return "proto %d" % frame[23]
        sport, dport, seq = struct.unpack("!HHI", frame[tcp:tcp + 8])
        return "%d->%d seq %d len %d" % (sport, dport, seq, len(payload))

    def push(self, release, d, frame):
        heapq.heappush(self.queue, (release, next(self.seq), d, frame))

    # ---- transmit ----------------------------------------------------------------------------
    def due(self, now):
        for d, held in self.held.items():
            for h in [h for h in held if h[0] <= now]:
                held.remove(h)
                self.push(h[0], d, h[2])
        while self.queue and self.queue[0][0] <= now:
            _, _, d, frame = heapq.heappop(self.queue)
            self.transmit(d, frame, now)

    def transmit(self, d, frame, now):
        side_out = self.sides[d][1]
        if frame[22] <= 1:
            self.n["ttl_expired"] += 1
            return
        frame[22] -= 1
        ihl = (frame[14] & 0x0F) * 4
        frame[24:26] = b"\0\0"
        frame[24:26] = struct.pack("!H", csum(bytes(frame[14:14 + ihl])))
        dst = bytes(frame[30:34])
        mac = self.resolve(side_out, dst, now)
        if mac is None:
            self.pending.setdefault((side_out.ifname, dst), []).append((now, d, frame))
            return
        frame[0:6], frame[6:12] = mac, side_out.mac
        side_out.sock.send(frame)
        self.n["forwarded"] += 1

    # ---- neighbours --------------------------------------------------------------------------
    def learn(self, side, ip, mac):
        key = (side.ifname, bytes(ip))
        if self.neigh.get(key) == mac:
            return
        self.neigh[key] = bytes(mac)
        for _, d, frame in self.pending.pop(key, []):
            frame[0:6], frame[6:12] = mac, side.mac
            side.sock.send(frame)
            self.n["forwarded"] += 1

    def learn_arp(self, side, frame):
        if len(frame) >= 42 and frame[14:22] == b"\x00\x01\x08\x00\x06\x04\x00\x02" \
                and side.on_link(frame[28:32]):  # an ARP reply: sender MAC, sender IP
            self.learn(side, frame[28:32], frame[22:28])
        elif len(frame) >= 42 and frame[14:22] == b"\x00\x01\x08\x00\x06\x04\x00\x01" \
                and side.on_link(frame[28:32]) and frame[28:32] != b"\0\0\0\0":
            self.learn(side, frame[28:32], frame[22:28])

    def resolve(self, side, ip, now):
        mac = self.neigh.get((side.ifname, ip))
        if mac:
            return mac
        with open("/proc/net/arp") as f:  # the kernel's neighbour table
            for line in f.readlines()[1:]:
                f_ = line.split()
                if f_[5] == side.ifname and socket.inet_aton(f_[0]) == ip and f_[2] != "0x0":
                    mac = bytes.fromhex(f_[3].replace(":", ""))
                    self.neigh[(side.ifname, ip)] = mac
                    return mac
        if now - self.arp_sent.get((side.ifname, ip), -1) > 0.2:
            self.arp_sent[(side.ifname, ip)] = now
            arp = struct.pack("!HHBBH6s4s6s4s", 1, ETH_P_IP, 6, 4, 1, side.mac, side.ip, b"\0" * 6, ip)
            side.sock.send(b"\xff" * 6 + side.mac + struct.pack("!H", ETH_P_ARP) + arp)
        return None

    def expire_pending(self, now):
        for key, frames in list(self.pending.items()):
            keep = [p for p in frames if now - p[0] < 3.0]
            self.n["unresolved"] += len(frames) - len(keep)
            side = next(s for s in self.sides["c2s"] if s.ifname == key[0])
            if keep:
                self.pending[key] = keep
                self.resolve(side, key[1], now)
            else:
                del self.pending[key]

    # ---- main loop ---------------------------------------------------------------------------
    def run(self):
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        signal.signal(signal.SIGINT, lambda *_: stop.append(1))
        socks = {s.sock: d for d, (s, _) in self.sides.items()}
        end = self.t0 + self.a.duration
        self.log("forwarding %s <-> %s, delay c2s %.1f ms s2c %.1f ms, until %.0f s" % (
            self.a.client_if, self.a.server_if, self.a.delay_c2s_ms, self.a.delay_s2c_ms,
            self.a.duration))
        while not stop:
            now = time.monotonic()
            if now >= end:
                break
            nxt = [end] + [h[0] for held in self.held.values() for h in held]
            if self.queue:
                nxt.append(self.queue[0][0])
            if self.pending:
                nxt.append(now + 0.05)
            try:
                # at most 0.1 s: a signal does not interrupt select() (PEP 475)
                ready, _, _ = select.select(list(socks), [], [], min(0.1, max(0.0, min(nxt) - now)))
            except InterruptedError:
                continue
            now = time.monotonic()
            for s in ready:
                self.receive(socks[s], now)
            self.due(time.monotonic())
            if self.pending:
                self.expire_pending(now)
        drops = {s.ifname: s.stats() for s in self.sides["c2s"]}
        print("forwarder: %s; socket drops %s" % (
            " ".join("%s=%d" % kv for kv in self.n.items()),
            " ".join("%s=%d" % (k, v[1]) for k, v in drops.items())), file=sys.stderr, flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--client-if", "--in", required=True, help="router interface toward the client")
    p.add_argument("--server-if", "--out", required=True, help="router interface toward the server")
    p.add_argument("--duration", type=float, required=True, help="exit after this many seconds")
    p.add_argument("--delay-ms", type=float, default=0.0, help="one-way delay, both directions")
    p.add_argument("--delay-c2s-ms", type=float, help="one-way delay client->server")
    p.add_argument("--delay-s2c-ms", type=float, help="one-way delay server->client")
    p.add_argument("--spike", nargs=4, metavar=("START_S", "DURATION_S", "EXTRA_MS", "DIR"))
    p.add_argument("--reorder-marker", type=lambda s: s.encode())
    p.add_argument("--reorder-every", type=int, default=0)
    p.add_argument("--reorder-dir", choices=("both", "c2s", "s2c"), default="both")
    p.add_argument("--reorder-hold-ms", type=float, default=5.0)
    p.add_argument("--reorder-hold-pkts", type=int, default=10**9,
                   help="release a held packet once this many later ones overtook it")
    p.add_argument("--corrupt-marker", type=lambda s: s.encode())
    p.add_argument("--drop-permille", type=int, default=0)
    p.add_argument("--drop-dir", choices=("both", "c2s", "s2c"), default="both")
    p.add_argument("--drop-all", action="store_true", help="drop from every packet, not only data")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--quiet", action="store_true", help="no per-event log lines")
    a = p.parse_args()
    a.delay_c2s_ms = a.delay_ms if a.delay_c2s_ms is None else a.delay_c2s_ms
    a.delay_s2c_ms = a.delay_ms if a.delay_s2c_ms is None else a.delay_s2c_ms
    if a.spike and a.spike[3] not in ("c2s", "s2c"):
        p.error("--spike DIR must be c2s or s2c")
    Forwarder(a).run()


if __name__ == "__main__":
    main()
