#!/usr/bin/env python3
"""A minimal OTLP/HTTP trace receiver for the end-to-end tests (Tests/EndToEndTests/TracingTests.swift).

It decodes what an OpenTelemetry exporter POSTs to /v1/traces (Content-Type application/x-protobuf, optionally
gzip-compressed) with the published OpenTelemetry protobufs (PyPI: opentelemetry-proto, installed by
scripts/install-deps.sh), answers as a collector does (200 with an ExportTraceServiceResponse), and appends one
JSON object per span to --out:

  {"resource": {...}, "scope": "...", "trace_id": "<32 hex>", "span_id": "<16 hex>", "parent_span_id": "<16 hex or ''>",
   "name": "...", "kind": <SpanKind number>, "attributes": {...}, "status": <StatusCode number>}

Usage: otlp-trace-receiver.py --port-file FILE --out FILE  (listens on 127.0.0.1, a free port written to --port-file).
It stops on SIGTERM or SIGINT.
"""
import argparse
import gzip
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

MAX_BODY = 16 * 1024 * 1024


def any_value(v):
    """An OTLP AnyValue as a Python value."""
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind) if kind else None


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def spans(request):
    for rs in request.resource_spans:
        resource = attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                yield {
                    "resource": resource,
                    "scope": ss.scope.name,
                    "trace_id": s.trace_id.hex(),
                    "span_id": s.span_id.hex(),
                    "parent_span_id": s.parent_span_id.hex(),
                    "name": s.name,
                    "kind": s.kind,
                    "attributes": attributes(s.attributes),
                    "status": s.status.code,
                }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def answer(self, status, body=b"", content_type="text/plain"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if self.path != "/v1/traces":
                return self.answer(404, b"only /v1/traces\n")
            if length <= 0 or length > MAX_BODY:
                return self.answer(413, b"body missing or too large\n")
            body = self.rfile.read(length)
            if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                body = gzip.decompress(body)
            if not (self.headers.get("Content-Type") or "").startswith("application/x-protobuf"):
                return self.answer(415, b"application/x-protobuf only\n")
            request = ExportTraceServiceRequest()
            try:
                request.ParseFromString(body)
            except Exception as e:  # a malformed export is the test's finding: answer 400 and say why
                return self.answer(400, f"not an ExportTraceServiceRequest: {e}\n".encode())
            lines = "".join(json.dumps(s, sort_keys=True) + "\n" for s in spans(request))
            with lock, open(args.out, "a", encoding="utf-8") as f:
                f.write(lines)
            self.answer(200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf")

        def log_message(self, format, *a):  # quiet: the test reads --out
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    open(args.out, "a").close()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)  # the test never reads a half-written port

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    # a child inherits its parent's signal mask (a test runner may block SIGTERM): unblock what stops us
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
