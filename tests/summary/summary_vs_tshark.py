#!/usr/bin/env python3
"""fleetcap summarize against tshark, on generated pcap files.

Each seed writes a pcap of random flows (IPv4 and IPv6, TCP and UDP, random
sizes, interleaved in time, a random bytes-per-packet no smaller than the
headers): TCP connections that complete, SYNs nobody answers, SYNs answered
with RST, connections reset midway, and data segments sent again later
(retransmissions). tshark dissects the same file independently; its
per-packet fields, summed per conversation here, must equal fleetcap's
flows: packets and bytes each way, SYN, SYN-ACK and RST counts each way, and
retransmissions. The verdicts must name every port that never answered and
every host that refused or reset (all of them when they fit in the 12
listed).

    summary_vs_tshark.py FLEETCAP [SEEDS] [FIRST_SEED]
"""
import ipaddress
import json
import random
import struct
import subprocess
import sys
import tempfile


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Writer:
    def __init__(self, snap):
        self.snap = snap
        self.records = []

    def frame(self, t, src, dst, proto, l4):
        v6 = src.version == 6
        if v6:
            ip = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + src.packed + dst.packed
            eth_type = 0x86DD
        else:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0,
                             src.packed, dst.packed)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            eth_type = 0x0800
        frame = b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01" + struct.pack("!H", eth_type) + ip + l4
        self.records.append((t, frame))

    def write(self, path):
        self.records.sort(key=lambda r: r[0])
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, self.snap, 1))
            for t, frame in self.records:
                cap = frame[: self.snap]
                f.write(struct.pack("<IIII", int(t), int(round((t - int(t)) * 1e6)), len(cap),
                                    len(frame)))
                f.write(cap)


def tcp(sport, dport, seq, ack, flags, payload=b"", window=64240):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, window, 0, 0) + payload


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08


def tcp_flow(w, rng, t, a, b, ap, bp, kind):
    """Writes one TCP exchange; returns the expected verdict subjects."""
    sa, sb = rng.randrange(1 << 32), rng.randrange(1 << 32)
    step = lambda: rng.uniform(0.0005, 0.02)
    if kind == "unanswered":
        for i in range(rng.randint(1, 5)):
            w.frame(t + i * 1.0, a, b, 6, tcp(ap, bp, sa, 0, SYN))
        return [("unanswered", b, bp)]
    w.frame(t, a, b, 6, tcp(ap, bp, sa, 0, SYN))
    t += step()
    if kind == "refused":
        w.frame(t, b, a, 6, tcp(bp, ap, 0, (sa + 1) & 0xFFFFFFFF, RST | ACK))
        return [("refused", b, bp)]
    w.frame(t, b, a, 6, tcp(bp, ap, sb, (sa + 1) & 0xFFFFFFFF, SYN | ACK))
    t += step()
    na, nb = (sa + 1) & 0xFFFFFFFF, (sb + 1) & 0xFFFFFFFF
    w.frame(t, a, b, 6, tcp(ap, bp, na, nb, ACK))
    sent = []
    for _ in range(rng.randint(1, 12)):
        t += step()
        if rng.random() < 0.5:
            data = rng.randbytes(rng.randint(1, 1400))
            w.frame(t, a, b, 6, tcp(ap, bp, na, nb, ACK | PSH, data))
            sent.append((na, data))
            na = (na + len(data)) & 0xFFFFFFFF
        else:
            data = rng.randbytes(rng.randint(1, 1400))
            w.frame(t, b, a, 6, tcp(bp, ap, nb, na, ACK | PSH, data))
            nb = (nb + len(data)) & 0xFFFFFFFF
    if sent and rng.random() < 0.5:  # a segment sent again, well after
        t += 0.3
        seq, data = rng.choice(sent)
        w.frame(t, a, b, 6, tcp(ap, bp, seq, nb, ACK | PSH, data))
    t += step()
    if kind == "reset":
        w.frame(t, b, a, 6, tcp(bp, ap, nb, na, RST | ACK))
        return [("reset", b, None)]
    w.frame(t, a, b, 6, tcp(ap, bp, na, nb, FIN | ACK))
    t += step()
    w.frame(t, b, a, 6, tcp(bp, ap, nb, (na + 1) & 0xFFFFFFFF, FIN | ACK))
    t += step()
    w.frame(t, a, b, 6, tcp(ap, bp, (na + 1) & 0xFFFFFFFF, (nb + 1) & 0xFFFFFFFF, ACK))
    return []


def generate(seed, path, snap=None):
    rng = random.Random(seed)
    w = Writer(rng.choice([65535, 1500, 200, 96, 80]))
    if snap:
        w.snap = snap
    expected = []
    used = set()
    for i in range(rng.randint(3, 25)):
        v6 = rng.random() < 0.4
        net = "fd00::" if v6 else "198.18.0.0"
        base = int(ipaddress.ip_address(net))
        a = ipaddress.ip_address(base + rng.randint(1, 40))
        b = ipaddress.ip_address(base + rng.randint(41, 80))
        ap, bp = rng.randint(1024, 65535), rng.choice([80, 443, 5353, 8080, rng.randint(1, 65535)])
        if (a, b, ap, bp) in used:
            continue
        used.add((a, b, ap, bp))
        t = 1_700_000_000 + rng.uniform(0, 20)
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 30)):
                t += rng.uniform(0.001, 0.5)
                src, dst, sp, dp = (a, b, ap, bp) if rng.random() < 0.6 else (b, a, bp, ap)
                w.frame(t, src, dst, 17, udp(sp, dp, rng.randbytes(rng.randint(0, 1400))))
        else:
            kind = rng.choice(["complete", "complete", "unanswered", "refused", "reset"])
            expected += tcp_flow(w, rng, t, a, b, ap, bp, kind)
    w.write(path)
    return expected, w.records


def tshark_flows(path):
    fields = ["frame.number", "frame.len", "ip.src", "ip.dst", "ipv6.src", "ipv6.dst",
              "tcp.srcport", "tcp.dstport", "udp.srcport", "udp.dstport", "tcp.flags.syn",
              "tcp.flags.ack", "tcp.flags.reset"]
    out = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-E", "separator=\t"]
                         + [x for f in fields for x in ("-e", f)],
                         check=True, capture_output=True, text=True).stdout
    rt = subprocess.run(["tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.number", "-Y",
                         "tcp.analysis.retransmission || tcp.analysis.fast_retransmission || "
                         "tcp.analysis.spurious_retransmission"],
                        check=True, capture_output=True, text=True).stdout.split()
    retrans = set(int(x) for x in rt)
    flows = {}
    for line in out.splitlines():
        num, length, s4, d4, s6, d6, tsp, tdp, usp, udp_, syn, ack, rst = line.split("\t")
        src, dst = s4 or s6, d4 or d6
        proto, sp, dp = ("tcp", tsp, tdp) if tsp else ("udp", usp, udp_)
        a, b = (src, int(sp)), (dst, int(dp))
        key = (proto,) + tuple(sorted([a, b]))
        f = flows.setdefault(key, {})
        d = f.setdefault(a, {"packets": 0, "bytes": 0, "syn": 0, "synack": 0, "rst": 0,
                             "retrans": 0})
        f.setdefault(b, {"packets": 0, "bytes": 0, "syn": 0, "synack": 0, "rst": 0, "retrans": 0})
        d["packets"] += 1
        d["bytes"] += int(length)
        if syn in ("1", "True"):
            d["synack" if ack in ("1", "True") else "syn"] += 1
        d["rst"] += rst in ("1", "True")
        d["retrans"] += int(num) in retrans
    return flows


def fleetcap_flows(fleetcap, path):
    j = json.loads(subprocess.run([fleetcap, "summarize", "--json", "--top", "10000", path],
                                  check=True, capture_output=True, text=True).stdout)
    flows = {}
    for f in j["flows"]:
        a = (f["localAddress"], f["localPort"])
        b = (f["remoteAddress"], f["remotePort"])
        t = f.get("tcp", {})
        side = lambda d: {"packets": f["packets" + d], "bytes": f["bytes" + d],
                          "syn": t.get("syn" + d, 0), "synack": t.get("synAck" + d, 0),
                          "rst": t.get("rst" + d, 0), "retrans": t.get("retransmissions" + d, 0)}
        flows[(f["protocol"],) + tuple(sorted([a, b]))] = {a: side("Out"), b: side("In")}
    return j, flows


def main():
    fleetcap = sys.argv[1]
    seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    first = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    packets = flows_n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(first, first + seeds):
            path = f"{tmp}/seed{seed}.pcap"
            expected, _ = generate(seed, path)
            want = tshark_flows(path)
            j, got = fleetcap_flows(fleetcap, path)
            if got != want:
                for k in sorted(set(got) | set(want), key=str):
                    if got.get(k) != want.get(k):
                        print(f"seed {seed}: {k}\n  fleetcap {got.get(k)}\n  tshark   {want.get(k)}")
                sys.exit(f"seed {seed}: fleetcap's flows differ from tshark's (see above)")
            verdicts = "\n".join(j["verdicts"])
            # At most 12 are listed, the largest first: with more subjects than
            # that, the list must be full instead.
            if len(set(expected)) > 12:
                if len(j["verdicts"]) < 12:
                    sys.exit(f"seed {seed}: {len(set(expected))} subjects, verdicts:\n{verdicts}")
                expected = []
            for kind, host, port in expected:
                h = f"[{host}]" if host.version == 6 else str(host)
                text = {"unanswered": f"{h}:{port} never answered",
                        "refused": f"{h}:{port} refused",
                        "reset": f"RST from {host} ended"}[kind]
                if text not in verdicts:
                    sys.exit(f"seed {seed}: no verdict \"{text}\" in:\n{verdicts}")
            packets += j["packets"]
            flows_n += len(got)
        # 34 bytes a packet: an IPv4 header whole and no port; IPv6 cut short.
        for seed in range(first, first + 5):
            path = f"{tmp}/short{seed}.pcap"
            _, records = generate(seed, path, snap=34)
            j, _ = fleetcap_flows(fleetcap, path)
            v4 = sum(1 for _, frame in records if frame[12:14] == b"\x08\x00")
            if (j["portsUnseen"], j["headerCut"]) != (v4, len(records) - v4):
                sys.exit(f"short seed {seed}: portsUnseen {j['portsUnseen']}, headerCut "
                         f"{j['headerCut']}; expected {v4} and {len(records) - v4}")
            if v4 and not any("ports not captured" in v for v in j["verdicts"]):
                sys.exit(f"short seed {seed}: no verdict on the ports not captured")
    print(f"{seeds} seeds (from {first}): {packets} packets in {flows_n} flows, "
          "fleetcap and tshark agree on every flow; 5 files cut at 34 bytes counted right")


if __name__ == "__main__":
    main()
