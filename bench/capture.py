#!/usr/bin/env python3
"""bench/capture: fleetcap capture vs tcpdump -w on the same burst.

One run: a test host (network namespace + veth pair, 198.18.0.0/15) sends the
same burst of UDP packets (64 bytes, or --frame) with trafgen, several rounds, alternating
`fleetcap capture` and `tcpdump -w` on the root side of the veth with the same
filter (the BPF expression fleetcap compiles, given to tcpdump verbatim), the
same snap length and the same kernel buffer. For each tool it prints the CPU
time (user + sys of the capturing process, from wait4) per million packets,
the packets written, the drops, the peak RSS, and the ratio fleetcap / tcpdump.

Needs root, trafgen (netsniff-ng), tcpdump, and a built fleetcap:
    sudo python3 bench/capture.py [--packets N] [--rounds R] [--rate PPS]
"""
import argparse
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

NS, ROOT_IF, NS_IF = "fcbench", "fcbenchr", "fcbenchn"
FRAME = 64  # bytes on the wire, without FCS (--frame)


def sh(cmd, check=True):
    return subprocess.run(cmd, shell=True, check=check, capture_output=True, text=True)


def host_up():
    host_down()
    sh(f"ip netns add {NS}")
    sh(f"ip link add {ROOT_IF} type veth peer name {NS_IF} netns {NS}")
    sh(f"sysctl -qw net.ipv6.conf.{ROOT_IF}.disable_ipv6=1")
    sh(f"ip netns exec {NS} sysctl -qw net.ipv6.conf.{NS_IF}.disable_ipv6=1")
    sh(f"ip link set {ROOT_IF} arp off multicast off up")
    sh(f"ip -n {NS} link set {NS_IF} arp off multicast off up")
    sh(f"ip addr add 198.18.0.1/24 dev {ROOT_IF}")
    sh(f"ip -n {NS} addr add 198.18.0.2/24 dev {NS_IF}")


def host_down():
    sh(f"ip link del {ROOT_IF}", check=False)
    sh(f"ip netns del {NS}", check=False)


def trafgen_conf(path, frame):
    # A destination MAC nobody owns: the root side's kernel drops the frame
    # after the capture taps saw it, and answers nothing.
    payload = frame - 14 - 20 - 8
    with open(path, "w") as f:
        f.write("{ eth(da=02:00:00:00:00:99, sa=02:00:00:00:00:01), "
                "ipv4(saddr=198.18.0.2, daddr=198.18.0.1, ttl=64), "
                f"udp(sp=40000, dp=9), fill(0x66, {payload}) }}\n")


class Capturer:
    def __init__(self, name, argv, ready):
        self.name, self.argv, self.ready = name, argv, ready

    def run(self, send):
        """Starts the capturer, sends, stops it; returns (cpu_s, peak_rss_kib, stdout, stderr).

        CPU and RSS come from wait4() on the capturer alone, not from trafgen."""
        proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = b""
        while self.ready not in err:
            chunk = proc.stderr.read1(4096)
            if not chunk:
                raise SystemExit(f"{self.name} did not start: {err.decode()}")
            err += chunk
        send()
        time.sleep(1.5)  # both tools hand over partial ring blocks within 1 s
        proc.send_signal(signal.SIGINT)
        out = proc.stdout.read()
        err += proc.stderr.read()
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise SystemExit(f"{self.name} exited {proc.returncode}: {err.decode()}")
        return ru.ru_utime + ru.ru_stime, ru.ru_maxrss, out.decode(), err.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--packets", type=int, default=2_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", default="400000pps", help="trafgen send rate (default 400000pps)")
    ap.add_argument("--snaplen", type=int, default=96)
    ap.add_argument("--frame", type=int, default=FRAME, help="bytes per frame, 64-1514 (default 64)")
    ap.add_argument("--buffer-mib", type=int, default=32)
    ap.add_argument("--fleetcap", default=os.path.join(os.path.dirname(__file__), "..", "build", "release", "cli", "fleetcap"))
    args = ap.parse_args()
    if not 64 <= args.frame <= 1514:
        raise SystemExit(f"--frame {args.frame}: expected 64 to 1514")
    if os.geteuid() != 0:
        raise SystemExit("bench/capture needs root (network namespace, packet capture)")
    for tool in ("trafgen", "tcpdump"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: run scripts/deps.sh")

    work = tempfile.mkdtemp(prefix="fleetcap-bench-")
    conf = os.path.join(work, "udp64.cfg")
    trafgen_conf(conf, args.frame)
    host_up()
    try:
        spec = "protocol=udp,remote-ip=198.18.0.2,local-port=9"
        probe = subprocess.run([args.fleetcap, "capture", "-i", ROOT_IF, "--filter", spec, "--time-limit", "1",
                                "-o", os.path.join(work, "probe.pcap")],
                               env=dict(os.environ, FLEETCAP_LOG_LEVEL="debug"), capture_output=True, text=True)
        m = re.search(r"filter expression: (.*)", probe.stderr)
        if not m:
            raise SystemExit(f"fleetcap did not print its filter: {probe.stderr}")
        expr = m.group(1)

        def send():
            sh(f"ip netns exec {NS} trafgen -o {NS_IF} -c {conf} -n {args.packets} -P 1 -b {args.rate} -q -C")

        results = {"fleetcap": [], "tcpdump": []}
        for rnd in range(args.rounds):
            for name in ("fleetcap", "tcpdump"):
                path = os.path.join(work, f"{name}-{rnd}.pcap")
                if name == "fleetcap":
                    cap = Capturer(name, [args.fleetcap, "capture", "-i", ROOT_IF, "--filter", spec,
                                          "--bytes-per-packet", str(args.snaplen), "--buffer-mib",
                                          str(args.buffer_mib), "--json", "-o", path], b"capturing on")
                else:
                    cap = Capturer(name, ["tcpdump", "-i", ROOT_IF, "-n", "-s", str(args.snaplen), "-B",
                                          str(args.buffer_mib * 1024), "-w", path, expr], b"listening on")
                cpu, rss, out, err = cap.run(send)
                size = os.path.getsize(path)
                packets = (size - 24) // (16 + min(args.frame, args.snaplen))
                if name == "fleetcap":
                    drops = int(re.search(r'"drops":(\d+)', out).group(1))
                else:
                    drops = sum(int(x) for x in re.findall(r"(\d+) packets dropped by (?:kernel|interface)", err))
                results[name].append((cpu, packets, drops, rss))
                print(f"round {rnd + 1} {name:8s}: {cpu:6.3f} CPU s, {packets} packets, {drops} drops, "
                      f"{cpu / max(packets, 1) * 1e6:.3f} CPU-us/packet", flush=True)
                os.unlink(path)

        print()
        print(f"{args.packets} x {args.frame}-byte UDP packets at {args.rate}, snap length {args.snaplen}, "
              f"kernel buffer {args.buffer_mib} MiB, {args.rounds} rounds, filter: {expr}")
        print(f"{'tool':10s} {'CPU s per M packets':>20s} {'packets':>10s} {'drops':>7s} {'peak RSS MiB':>13s}")
        med = {}
        for name, rows in results.items():
            per_m = statistics.median(cpu / max(p, 1) * 1e6 for cpu, p, _, _ in rows)
            med[name] = per_m
            print(f"{name:10s} {per_m:20.3f} {min(p for _, p, _, _ in rows):10d} "
                  f"{max(d for _, _, d, _ in rows):7d} {max(r for *_, r in rows) / 1024:13.1f}")
        print(f"ratio fleetcap / tcpdump (CPU per packet): {med['fleetcap'] / med['tcpdump']:.2f}")
    finally:
        host_down()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
