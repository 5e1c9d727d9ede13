#!/usr/bin/env python3
"""Cold start of the release route binaries under a minimal local Lambda Runtime API.

For each run: exec target/lambda/get-index/bootstrap, hand it one API Gateway v2 event carrying
a valid session cookie, and record the time from exec to its first /next poll, from exec to its
response, and its peak RSS (VmHWM, read when it polls again, i.e. after the response). In cookie
mode and, when AWS_ENDPOINT_URL_DYNAMODB points at a dynalite with table bigsesh-session, in
DynamoDB mode (then the cookie makes it load the AWS configuration and do a GetItem).

Then, with strace, shows that cookie mode loads no AWS configuration (no ~/.aws file touched,
no connection but the Runtime API), against DynamoDB mode as a control that does both; and that
a cookieless GET in DynamoDB mode connects to nothing but the Runtime API.

Python 3 standard library only. Usage: bench/coldstart.py [--runs N] [--lambda-dir DIR] (after
`cargo lambda build --release --compiler cargo --bin get-index --bin post-count --bin post-reset`).
"""

import argparse
import http.server
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "crates/arc-functions/tests/fixtures/apigw_v2_request.json")
ROUTES = ["get-index", "post-count", "post-reset"]
SECRET = "cold-start benchmark secret, forty-eight bytes!!"
TABLE = "bigsesh-session"
API = "/2018-06-01/runtime"
LAMBDA_DIR = os.path.join(ROOT, "target/lambda")  # --lambda-dir: another build to compare


def event(method, path, cookie=None):
    """The API Gateway v2 fixture, re-aimed at one route of the example app."""
    with open(FIXTURE) as f:
        e = json.load(f)
    e.update(routeKey=f"{method} {path}", rawPath=path, rawQueryString="", body=None,
             cookies=[cookie] if cookie else [], queryStringParameters={}, pathParameters={})
    e["requestContext"]["http"].update(method=method, path=path)
    return json.dumps(e).encode()


class Invocation:
    """One event to hand out and what the function did with it."""

    def __init__(self, body):
        self.body = body
        self.served = False
        self.t_poll = self.t_response = None
        self.response = self.error = None
        self.responded = threading.Event()
        self.polled_again = threading.Event()
        self.finished = threading.Event()


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real Runtime API

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)[:size]
                if not size:
                    return out
                out += chunk
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_GET(self):
        inv = self.server.invocation
        if self.path != f"{API}/invocation/next":
            return self._reply(404)
        if inv.served:
            # The function is done and waits for more work: the moment to read its peak RSS.
            inv.polled_again.set()
            inv.finished.wait(30)
            self.close_connection = True
            return
        inv.served = True
        inv.t_poll = time.perf_counter_ns()
        deadline = int(time.time() * 1000) + 30_000
        self._reply(200, inv.body, [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", "req-1"),
            ("Lambda-Runtime-Deadline-Ms", str(deadline)),
            ("Lambda-Runtime-Invoked-Function-Arn",
             "arn:aws:lambda:us-east-1:123456789012:function:bench"),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
        ])

    def do_POST(self):
        inv = self.server.invocation
        body = self._body()
        if self.path == f"{API}/invocation/req-1/response":
            inv.t_response = time.perf_counter_ns()
            inv.response = body
        elif self.path in (f"{API}/init/error", f"{API}/invocation/req-1/error"):
            inv.error = f"{self.path}: {body.decode(errors='replace')}"
        else:
            return self._reply(404)
        self._reply(202, b'{"status":"OK"}', [("Content-Type", "application/json")])
        inv.responded.set()


def start_api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def lambda_env(server, route, home, extra):
    """What Lambda's provided.al2023 runtime gives a function, and nothing from this shell."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": route,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{route}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "ARC_ENV": "production",
        "ARC_APP_SECRET": SECRET,
    }
    env.update(extra)
    return env


def invoke(server, route, body, env, wrap=()):
    """Execs the route once for one event; returns (poll ms, response ms, peak RSS KiB, JSON)."""
    inv = server.invocation = Invocation(body)
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen([*wrap, os.path.join(LAMBDA_DIR, route, "bootstrap")],
                                env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            if not inv.responded.wait(30) or inv.error:
                err.seek(0)
                sys.exit(f"{route}: {inv.error or 'no response'}\n{err.read().decode()[-2000:]}")
            inv.polled_again.wait(5)
            with open(f"/proc/{proc.pid}/status") as f:
                hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
        finally:
            proc.kill()
            proc.wait()
            inv.finished.set()
    ms = lambda t: (t - t0) / 1e6  # noqa: E731
    return ms(inv.t_poll), ms(inv.t_response), hwm, json.loads(inv.response)


def session_cookie(server, env):
    """A valid `_idx` cookie of this mode, from one POST /count (so count is 1)."""
    env = dict(env, AWS_LAMBDA_FUNCTION_NAME="post-count")
    *_, res = invoke(server, "post-count", event("POST", "/count"), env)
    return res["cookies"][0].split(";")[0]


def measure(server, mode, extra, runs, home):
    env = lambda_env(server, "get-index", home, extra)
    cookie = session_cookie(server, env)
    body = event("GET", "/", cookie)
    polls, responses, rss = [], [], []
    for _ in range(runs):
        poll, resp, hwm, res = invoke(server, "get-index", body, env)
        assert res["statusCode"] == 200 and "Count 1" in res["body"], res
        polls.append(poll)
        responses.append(resp)
        rss.append(hwm / 1024)
    q = lambda xs, p: statistics.quantiles(xs, n=10)[p - 1] if len(xs) > 1 else xs[0]  # noqa: E731
    print(f"| {mode} | {statistics.median(polls):.2f} | {q(polls, 9):.2f} "
          f"| {statistics.median(responses):.2f} | {q(responses, 9):.2f} "
          f"| {statistics.median(rss):.1f} | {max(rss):.1f} |")
    return cookie


def traced(server, extra, cookie, home):
    """Runs get-index once under strace; returns (~/.aws paths touched, connect() targets)."""
    log = os.path.join(home, "strace.log")
    env = lambda_env(server, "get-index", home, extra)
    wrap = ["strace", "-f", "-qq", "-e", "trace=openat,statx,newfstatat,connect", "-o", log]
    invoke(server, "get-index", event("GET", "/", cookie), env, wrap)
    with open(log) as f:
        text = f.read()
    aws = sorted({m for m in re.findall(r'"([^"]*\.aws[^"]*)"', text)})
    peers = sorted({f"{a}:{p}" for p, a in re.findall(
        r'connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), [^}]*?"([\d.:a-f]+)"', text)})
    return aws, peers


def main():
    global LAMBDA_DIR
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--lambda-dir", default=LAMBDA_DIR, help="where <route>/bootstrap are")
    args = ap.parse_args()
    LAMBDA_DIR = os.path.abspath(args.lambda_dir)

    print(f"\nRelease bootstraps ({os.path.relpath(LAMBDA_DIR, ROOT)}/<route>/bootstrap), zipped with deflate:\n")
    print("| route | bootstrap bytes | zip bytes |\n|---|---:|---:|")
    for route in ROUTES:
        path = os.path.join(LAMBDA_DIR, route, "bootstrap")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(path, "bootstrap")
        print(f"| {route} | {os.path.getsize(path):,} | {len(buf.getvalue()):,} |")

    server = start_api()
    home = tempfile.mkdtemp(prefix="coldstart-home-")  # an empty HOME: no ~/.aws of this machine
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    dynamo = {
        "SESSION_TABLE_NAME": TABLE,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint or "",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    try:
        print(f"\nCold start of get-index with a session cookie, {args.runs} runs each, ms from exec:\n")
        print("| mode | first poll median | p90 | response median | p90 | peak RSS MiB median | max |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        cookie = measure(server, "cookie", {}, args.runs, home)
        dynamo_cookie = None
        if endpoint:
            dynamo_cookie = measure(server, "DynamoDB", dynamo, args.runs, home)
        else:
            print("\nSKIPPED DynamoDB mode: AWS_ENDPOINT_URL_DYNAMODB is unset")

        if not shutil.which("strace"):
            print("\nSKIPPED the AWS-configuration check: strace is not installed")
            return
        print("\nWhat get-index touches (strace -f: openat/statx/newfstatat/connect), HOME empty:\n")
        print("| mode | ~/.aws paths touched | connect() to |\n|---|---|---|")
        api = f"127.0.0.1:{server.server_address[1]} (Runtime API)"
        cases = [("cookie, with cookie, no AWS region or credentials set", {}, cookie)]
        if endpoint:
            cases += [("DynamoDB, with cookie (control)", dynamo, dynamo_cookie),
                      ("DynamoDB, cookieless GET", dynamo, None)]
        for label, extra, c in cases:
            aws, peers = traced(server, extra, c, home)
            names = {api.split(" ")[0]: api}
            if endpoint:
                names[endpoint.split("//")[-1]] = f"{endpoint.split('//')[-1]} (dynalite)"
            peers = [names.get(p, p) for p in peers]
            print(f"| {label} | {', '.join(p.replace(home, '$HOME') for p in aws) or 'none'} "
                  f"| {', '.join(peers) or 'none'} |")
    finally:
        shutil.rmtree(home, ignore_errors=True)
        server.shutdown()


if __name__ == "__main__":
    main()
