#!/usr/bin/env python3
"""bench/upload: fleetcap upload vs curl -T (one Put Blob) to Azurite.

One run: the same file (512 MiB by default) is uploaded several rounds,
alternating `fleetcap upload` (verified blocks in parallel, each with its
Content-MD5, then Put Block List) and `curl -T` (a single Put Blob, what a
user would otherwise type), both with the same SAS token of sp=cw to the same
Azurite. The order flips each round so drift hits both alike. For each tool it
prints MiB/s (file size / wall time of the process) and the CPU time of the
process (user + sys, from wait4), then the ratio of the medians.

Every upload is checked: fleetcap's SHA-256 must be the file's, curl must get
201. Blobs are deleted after each round so Azurite's disk stays small.

Needs a built fleetcap (bash scripts/build.sh) and Azurite: it uses
FLEETCAP_AZURITE when set, else starts scripts/services.sh and stops it.
    python3 bench/upload.py [--size-mib N] [--rounds R] [--parallel N] [--block-size N]
"""
import argparse
import base64
import email.utils
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLEETCAP = os.path.join(ROOT, "build", "release", "cli", "fleetcap")
ACCOUNT = "devstoreaccount1"
# Azurite's published development key (not a secret).
KEY = base64.b64decode("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
                       "K1SZFPTOtr/KBHBeksoGMGw==")
VERSION = "2021-08-06"


def shared_key_request(endpoint, method, path, query=""):
    """Sends one SharedKey-signed request with an empty body; returns the status."""
    date = email.utils.formatdate(usegmt=True)
    canon_query = "".join(f"\n{k}:{v}" for k, v in sorted(urllib.parse.parse_qsl(query)))
    sts = (f"{method}\n" + "\n" * 11 + f"x-ms-date:{date}\nx-ms-version:{VERSION}\n"
           f"/{ACCOUNT}/{ACCOUNT}{path}{canon_query}")
    sig = base64.b64encode(hmac.new(KEY, sts.encode(), hashlib.sha256).digest()).decode()
    url = endpoint.rsplit("/", 1)[0] + f"/{ACCOUNT}{path}" + (f"?{query}" if query else "")
    req = urllib.request.Request(url, method=method, headers={
        "x-ms-date": date, "x-ms-version": VERSION, "Content-Length": "0",
        "Authorization": f"SharedKey {ACCOUNT}:{sig}"})
    try:
        return urllib.request.urlopen(req).status
    except urllib.error.HTTPError as e:
        return e.code


def container_sas(container, perms):
    fields = [perms, "", "2099-01-01T00:00:00Z", f"/blob/{ACCOUNT}/{container}", "", "", "",
              VERSION, "c", "", "", "", "", "", "", ""]
    sig = base64.b64encode(hmac.new(KEY, "\n".join(fields).encode(), hashlib.sha256).digest())
    return urllib.parse.urlencode({"sv": VERSION, "sr": "c", "sp": perms,
                                   "se": "2099-01-01T00:00:00Z", "sig": sig.decode()})


def run(argv):
    """Runs argv; returns (wall seconds, CPU seconds, exit status, stdout)."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} failed ({proc.returncode}): {err.decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime, out.decode()


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size-mib", type=int, default=512)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=None, help="fleetcap --parallel")
    ap.add_argument("--block-size", type=int, default=None, help="fleetcap --block-size")
    args = ap.parse_args()

    started_services = False
    endpoint = os.environ.get("FLEETCAP_AZURITE")
    if not endpoint:
        out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "services.sh"), "start"],
                             check=True, capture_output=True, text=True).stdout
        endpoint = [l.split("=", 1)[1] for l in out.splitlines()
                    if l.startswith("export FLEETCAP_AZURITE=")][0]
        started_services = True
    if not os.access(FLEETCAP, os.X_OK):
        sys.exit(f"{FLEETCAP} not found: run bash scripts/build.sh first")

    container = f"bench{os.getpid()}"
    if shared_key_request(endpoint, "PUT", f"/{container}", "restype=container") != 201:
        sys.exit("cannot create the benchmark container")
    sas = container_sas(container, "cw")
    path = f"/var/tmp/fleetcap-bench-upload-{os.getpid()}.bin"
    with open(path, "wb") as f:
        for _ in range(args.size_mib):
            f.write(os.urandom(1 << 20))
    want = file_sha256(path)
    size_mib = args.size_mib

    def fleetcap(blob):
        argv = [FLEETCAP, "upload", path, "--blob-url", f"{endpoint}/{container}/{blob}",
                "--blob-sas", sas, "--json", "--quiet"]
        if args.parallel:
            argv += ["--parallel", str(args.parallel)]
        if args.block_size:
            argv += ["--block-size", str(args.block_size)]
        wall, cpu, out = run(argv)
        got = json.loads(out)["sha256"]
        if got != want:
            sys.exit(f"fleetcap reported sha256 {got}, the file is {want}")
        return wall, cpu

    def curl(blob):
        wall, cpu, out = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", path,
                              "-H", "x-ms-blob-type: BlockBlob",
                              f"{endpoint}/{container}/{blob}?{sas}"])
        if out != "201":
            sys.exit(f"curl got HTTP {out}")
        return wall, cpu

    results = {"fleetcap": [], "curl": []}
    try:
        print(f"{size_mib} MiB to {endpoint}/{container}, {args.rounds} rounds, alternating")
        print("| round | tool | MiB/s | CPU s |")
        print("|---|---|---|---|")
        for r in range(1, args.rounds + 1):
            order = [("fleetcap", fleetcap), ("curl", curl)]
            if r % 2 == 0:
                order.reverse()
            for name, fn in order:
                blob = f"{name}-{r}.bin"
                wall, cpu = fn(blob)
                results[name].append((size_mib / wall, cpu))
                print(f"| {r} | {name} | {size_mib / wall:.1f} | {cpu:.2f} |", flush=True)
                shared_key_request(endpoint, "DELETE", f"/{container}/{blob}")
        med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v))
               for k, v in results.items()}
        print()
        print("| tool | MiB/s (median) | CPU s (median) |")
        print("|---|---|---|")
        for k, (rate, cpu) in med.items():
            print(f"| {k} | {rate:.1f} | {cpu:.2f} |")
        print(f"\nratio fleetcap / curl (MiB/s): {med['fleetcap'][0] / med['curl'][0]:.2f}")
    finally:
        os.unlink(path)
        shared_key_request(endpoint, "DELETE", f"/{container}", "restype=container")
        if started_services:
            subprocess.run(["bash", os.path.join(ROOT, "scripts", "services.sh"), "stop"],
                           capture_output=True)


if __name__ == "__main__":
    main()
