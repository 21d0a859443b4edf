#!/usr/bin/env python3
"""bench/api: a create through fleetcap-api vs `fleetcap create --wait`.

Both ask the same scheduler for a capture on the same worker and wait for its
answer (Running). The API is one HTTP PUT that returns once the answer is in
its status view; `fleetcap create --wait` is what a script would otherwise
run: a process that connects to Kafka, sends the command and reads the status
partition until the answer. One run: the two alternate, one create each, for
--rounds rounds; then the API alone with --clients concurrent clients, for
requests per second. Every answer is checked (201 / exit 0 and "Running").

Everything runs here: scripts/services.sh's Kafka (FLEETCAP_BROKERS, else it
is started and stopped), a scheduler, a worker capturing on lo (root: the
captures last 1 s and match nothing), and the API on a free port.
    python3 bench/api.py [--rounds N] [--clients C] [--requests R]
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "release")
FLEETCAP = os.path.join(BUILD, "cli", "fleetcap")
SCHEDULER = os.path.join(BUILD, "scheduler", "fleetcap-scheduler")
WORKER = os.path.join(BUILD, "worker", "fleetcap-worker")
API = os.path.join(BUILD, "api", "fleetcap-api")
TOKEN = "bench-token-0123456789abcdef"
SUB, REGION, HOST = "bench", "r1", "bench-host"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_log(path, text, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with open(path, errors="replace") as f:
            if text in f.read():
                return
        time.sleep(0.1)
    sys.exit(f"bench: no '{text}' in {path}")


def spec_body():
    # A 1 s capture on lo of a port nothing uses: it ends at once and holds nothing.
    return json.dumps({"properties": {
        "target": HOST, "timeLimitInSeconds": 1,
        "storageLocation": {"filePath": "bench.pcap"},
        "filters": [{"protocol": "UDP", "localPort": "9"}]}})


def put(port, name):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    path = f"/subscriptions/{SUB}/regions/{REGION}/packetCaptures/{name}"
    body = spec_body().replace("bench.pcap", f"{name}.pcap")
    t = time.perf_counter()
    c.request("PUT", path, body, {"Authorization": f"Bearer {TOKEN}",
                                  "Content-Type": "application/json"})
    r = c.getresponse()
    answer = json.loads(r.read())
    elapsed = time.perf_counter() - t
    c.close()
    if r.status != 201 or answer["properties"]["packetCaptureStatus"] != "Running":
        sys.exit(f"bench: PUT {name}: {r.status} {answer}")
    return elapsed


def cli(brokers, prefix, name):
    t = time.perf_counter()
    p = subprocess.run([FLEETCAP, "create", name, "-s", SUB, "-r", REGION, "-t", HOST,
                        "--filter", "protocol=udp,local-port=9", "--time-limit", "1",
                        "--file-path", f"{name}.pcap", "--brokers", brokers,
                        "--prefix", prefix, "--wait"], capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if p.returncode != 0 or "Running" not in p.stdout:
        sys.exit(f"bench: fleetcap create {name}: {p.returncode} {p.stdout} {p.stderr}")
    return elapsed


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--requests", type=int, default=400)
    args = ap.parse_args()

    started_services = not os.environ.get("FLEETCAP_BROKERS")
    if started_services:
        out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "services.sh"), "start"],
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            k, v = line.replace("export ", "").split("=", 1)
            os.environ[k] = v
    brokers = os.environ["FLEETCAP_BROKERS"]
    prefix = f"bench-api-{os.getpid()}."
    tmp = tempfile.mkdtemp(prefix="fleetcap-bench-api-")
    os.makedirs(f"{tmp}/captures")
    os.makedirs(f"{tmp}/state")
    with open(f"{tmp}/tokens", "w") as f:
        f.write(f"{TOKEN} {SUB}\n")
    subprocess.run([FLEETCAP, "topics", "create", "--brokers", brokers, "--prefix", prefix],
                   check=True, capture_output=True)
    port = free_port()
    procs = []

    def start(cmd, log):
        procs.append(subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                                      start_new_session=True))
    common = ["-X", f"brokers={brokers}", "-X", f"topics.prefix={prefix}"]
    try:
        start([SCHEDULER, *common, "-X", "instance.id=bench", "-X", "quota.default=100000"],
              f"{tmp}/scheduler.log")
        start([WORKER, *common, "-X", f"host.id={HOST}", "-X", f"subscription={SUB}",
               "-X", f"region={REGION}", "-X", "interfaces=lo",
               "-X", f"capture.root={tmp}/captures", "-X", f"state.dir={tmp}/state",
               "-X", "sessions.max=256"], f"{tmp}/worker.log")
        start([API, *common, "-X", f"auth.tokens={tmp}/tokens", "-X", f"listen.port={port}"],
              f"{tmp}/api.log")
        wait_log(f"{tmp}/scheduler.log", "ledger replayed")
        wait_log(f"{tmp}/worker.log", "capturing under")
        wait_log(f"{tmp}/api.log", "listening on")
        put(port, "warm-api")
        cli(brokers, prefix, "warm-cli")

        api_s, cli_s = [], []
        for i in range(args.rounds):
            pair = [("api", lambda: put(port, f"a{i}")), ("cli", lambda: cli(brokers, prefix, f"c{i}"))]
            if i % 2:
                pair.reverse()
            for kind, fn in pair:
                (api_s if kind == "api" else cli_s).append(fn())

        t = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(lambda i: put(port, f"p{i}"), range(args.requests)))
        rate = args.requests / (time.perf_counter() - t)

        ms = lambda v: f"{v * 1000:.1f} ms"
        print(f"{args.rounds} creates each, alternating, answer = Running:")
        print(f"  fleetcap-api PUT:          p50 {ms(statistics.median(api_s))}, "
              f"p99 {ms(pct(api_s, 0.99))}")
        print(f"  fleetcap create --wait:    p50 {ms(statistics.median(cli_s))}, "
              f"p99 {ms(pct(cli_s, 0.99))}")
        print(f"  ratio of medians (cli / api): {statistics.median(cli_s) / statistics.median(api_s):.2f}")
        print(f"{args.requests} PUTs from {args.clients} clients: {rate:.0f} creates/s")
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        if started_services:
            subprocess.run(["bash", os.path.join(ROOT, "scripts", "services.sh"), "stop"],
                           capture_output=True)


if __name__ == "__main__":
    main()
