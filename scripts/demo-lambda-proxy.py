#!/usr/bin/env python3
"""The demo's Lambda endpoint: `cargo lambda watch` for invocations, plus the control-plane
listings it lacks, so that the designer's function and qualifier pickers work in the demo.

    demo-lambda-proxy.py LISTEN_PORT EMULATOR_URL FUNCTION...

Answers ListFunctions (GET /2015-03-31/functions/), ListAliases and ListVersionsByFunction for
the given demo functions (no aliases; the version $LATEST), and forwards every other request
unchanged to EMULATOR_URL. Loopback only. Standard library only.
"""
import json
import re
import sys
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCOUNT = "123456789012"
REGION = "us-east-1"


def arn(name):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def main():
    port, upstream, names = int(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3:]

    def summary(name, version="$LATEST"):
        return {"FunctionName": name, "FunctionArn": arn(name), "Runtime": "provided.al2023",
                "Handler": "bootstrap", "Version": version,
                "Description": "lambdaflow demo function (cargo lambda watch)"}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "demo-listing")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if re.fullmatch(r"/2015-03-31/functions/?", path):
                return self.answer(200, {"Functions": [summary(n) for n in names]})
            m = re.fullmatch(r"/2015-03-31/functions/([^/]+)/(aliases|versions)/?", path)
            if m:
                name = urllib.request.unquote(m.group(1)).split(":")[-1]
                if name not in names:
                    return self.answer(404, {"Type": "User", "message": f"Function not found: {arn(name)}"})
                if m.group(2) == "aliases":
                    return self.answer(200, {"Aliases": []})
                return self.answer(200, {"Versions": [summary(name)]})
            return self.forward()

        def forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
            req = urllib.request.Request(upstream + self.path, data=body, headers=headers, method=self.command)
            try:
                with urllib.request.urlopen(req, timeout=900) as res:
                    status, res_headers, data = res.status, res.headers.items(), res.read()
            except urllib.error.HTTPError as e:
                status, res_headers, data = e.code, e.headers.items(), e.read()
            except OSError as e:
                return self.answer(502, {"Type": "Service", "message": f"emulator unreachable: {e}"})
            self.send_response(status)
            for k, v in res_headers:
                if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = forward
        do_PUT = forward
        do_DELETE = forward

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
