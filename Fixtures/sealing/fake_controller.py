#!/usr/bin/env python3
"""A stand-in for the Sealed Secrets controller's HTTP API, for testing clients offline.

Usage: fake_controller.py KEY_PEM CERT_PEM PORT
Serves GET /v1/cert.pem, POST /v1/verify (200 if every item opens, 409 if not, 500 on bad input) and
POST /v1/rotate (opens every item and seals it again; compact JSON without kind/apiVersion), using
Python's `cryptography` only. Prints "ready" once listening; exits when its standard input closes
(so it never outlives the test that started it) or on SIGTERM.
"""
import base64
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from open_sealed import open_blob  # noqa: E402
from seal_python import seal  # noqa: E402


def label_for(metadata):
    annotations = metadata.get("annotations") or {}
    if annotations.get("sealedsecrets.bitnami.com/cluster-wide") == "true":
        return b""
    if annotations.get("sealedsecrets.bitnami.com/namespace-wide") == "true":
        return metadata.get("namespace", "").encode()
    return f"{metadata.get('namespace', '')}/{metadata.get('name', '')}".encode()


def main():
    with open(sys.argv[1], "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    with open(sys.argv[2], "rb") as handle:
        cert_pem = handle.read()
    public_key = x509.load_pem_x509_certificate(cert_pem).public_key()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, body=b"", content_type="text/plain"):
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/v1/cert.pem":
                self.reply(200, cert_pem, "application/x-pem-file")
            elif self.path == "/healthz":
                self.reply(200, b"ok\n")
            else:
                self.reply(404, b"not found\n")

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                sealed = json.loads(body)
                metadata = sealed["metadata"]
                items = sealed["spec"]["encryptedData"]
            except Exception:  # noqa: BLE001
                self.reply(500, b"bad request\n")
                return
            label = label_for(metadata)
            try:
                opened = {name: open_blob(key, label, base64.b64decode(blob)) for name, blob in items.items()}
            except Exception:  # noqa: BLE001
                self.reply(409 if self.path == "/v1/verify" else 500, b"no key could decrypt secret\n")
                return
            if self.path == "/v1/verify":
                self.reply(200)
            elif self.path == "/v1/rotate":
                sealed["spec"]["encryptedData"] = {
                    name: base64.b64encode(seal(public_key, label, value)).decode() for name, value in opened.items()
                }
                sealed.pop("kind", None)
                sealed.pop("apiVersion", None)
                self.reply(200, json.dumps(sealed, separators=(",", ":")).encode(), "application/json")
            else:
                self.reply(404, b"not found\n")

    server = HTTPServer(("127.0.0.1", int(sys.argv[3])), Handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def exit_when_parent_goes():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
