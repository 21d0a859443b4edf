#!/usr/bin/env python3
"""Reads fleetcap's final capture reports from Kafka, outside C.

A downstream consumer in another language needs only the topic and the
schema: it compiles proto/fleetcap.proto at start (grpcio-tools' protoc),
reads PREFIX + "results" with read_committed (what the workers' transactions
committed), and prints one JSON object per final report (FINISHED or FAILED):
the capture, its stop reason or error, and every file with its blob URL,
size and sha256.

    python3 -m venv .venv && .venv/bin/pip install confluent-kafka==2.16.1 \
        grpcio-tools==1.85.1 protobuf==7.36.2
    .venv/bin/python docs/consumer/results_consumer.py --brokers 127.0.0.1:9092 \
        --prefix fleetcap. --proto proto/fleetcap.proto [--name NAME] [--timeout S] \
        [-X security.protocol=SASL_SSL -X sasl.username=consumer ...]

-X passes librdkafka properties, such as a secured cluster's credentials (the
"consumer" role of "fleetcap topics acls": results and status, groups named
PREFIX + "consumer-").

Without --name it follows until Ctrl-C; with --name it exits 0 after that
capture's first final report, 1 when none came within --timeout seconds.
"""
import argparse
import importlib
import json
import os
import sys
import tempfile
import uuid

from confluent_kafka import Consumer, KafkaError
from grpc_tools import protoc


def compile_schema(proto_path):
    """Compiles the .proto into a temporary package and imports it."""
    out = tempfile.mkdtemp(prefix="fleetcap-proto-")
    src = os.path.dirname(os.path.abspath(proto_path))
    rc = protoc.main(["protoc", f"-I{src}", f"--python_out={out}",
                      os.path.abspath(proto_path)])
    if rc != 0:
        sys.exit(f"results_consumer: protoc failed on {proto_path} ({rc})")
    sys.path.insert(0, out)
    name = os.path.splitext(os.path.basename(proto_path))[0] + "_pb2"
    return importlib.import_module(name)


def report_json(pb, r):
    kinds = pb.ReportKind.Name
    return {
        "kind": kinds(r.kind).replace("REPORT_KIND_", ""),
        "sessionId": r.session_id,
        "subscription": r.subscription,
        "region": r.region,
        "name": r.name,
        "host": r.host_id,
        "stopReason": pb.StopReason.Name(r.stop_reason).replace("STOP_REASON_", ""),
        "error": pb.ErrorCode.Name(r.error).replace("ERROR_CODE_", ""),
        "errorMessage": r.error_message,
        "packets": r.counters.packets,
        "bytes": r.counters.bytes,
        "files": [{"localPath": f.local_path, "blobUrl": f.blob_url, "size": f.size,
                   "sha256": f.sha256} for f in r.files],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--prefix", default="fleetcap.")
    ap.add_argument("--proto", required=True, help="path to proto/fleetcap.proto")
    ap.add_argument("--name", help="stop after this capture's final report")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("-X", action="append", default=[], metavar="KEY=VALUE",
                    help="a librdkafka property (credentials of a secured cluster)")
    args = ap.parse_args()

    pb = compile_schema(args.proto)
    final = {pb.REPORT_KIND_FINISHED, pb.REPORT_KIND_FAILED}
    config = {
        "bootstrap.servers": args.brokers,
        "group.id": f"{args.prefix}consumer-{uuid.uuid4()}",
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
    }
    for prop in args.X:
        key, eq, value = prop.partition("=")
        if not eq or not key:
            sys.exit(f"results_consumer: -X \"{prop}\": expected KEY=VALUE")
        config[key] = value
    consumer = Consumer(config)
    consumer.subscribe([args.prefix + "results"])
    waited = 0.0
    try:
        while args.name is None or waited < args.timeout:
            msg = consumer.poll(0.5)
            waited += 0.5
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                sys.exit(f"results_consumer: {msg.error()}")
            r = pb.CaptureReport()
            try:
                r.ParseFromString(msg.value() or b"")
            except Exception as e:  # a record of another producer: skip it
                print(f"results_consumer: offset {msg.offset()}: {e}", file=sys.stderr)
                continue
            if r.kind not in final or (args.name and r.name != args.name):
                continue
            print(json.dumps(report_json(pb, r)), flush=True)
            if args.name:
                return 0
    except KeyboardInterrupt:
        return 0
    finally:
        consumer.close()
    return 1 if args.name else 0


if __name__ == "__main__":
    sys.exit(main())
