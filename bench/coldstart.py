#!/usr/bin/env python3
"""Cold start, side by side: the Rust floor, our routes, and Node on @architect/functions.

Under a minimal local Lambda Runtime API, in rounds that start every target once (so a busy
moment of the machine weighs on all alike), for each run: exec the function, hand it one API
Gateway v2 event, and record the time from exec to its first /next poll, from exec to its
response, and its peak RSS (VmHWM, read when it polls again, i.e. after the response). Targets:

- `floor`: target/lambda/floor/bootstrap, a hello-world `lambda_http` function (bench/floor)
  built with the workspace's release profile: the floor for any Rust function, on
  `#[tokio::main]` as `cargo lambda new` writes it;
- `floor-one-thread`, when built: the same on a one-thread runtime, as `http::start` runs a
  route on classic Lambda (the best a Rust function could do; no target is read against it);
- `get-index`: our route, with a valid session cookie from a first `post-count` of the same
  mode, in cookie mode and, when AWS_ENDPOINT_URL_DYNAMODB points at a dynalite with table
  bigsesh-session, in DynamoDB mode (which builds the client and opens its connection at
  start-up, beside the first poll, then does a GetItem);
- `get-index-cookie` (bench/cookie-route), when built: get-index's own code built as `cargo arc
  sam` deploys a cookie-mode app with `@ws` (arc-functions' `secrets-manager` and `ws`, which
  link no AWS SDK); in cookie mode and secrets mode, with the same cookie as `get-index`;
- `get-index` in `secrets` mode: cookie mode with the secret named (`ARC_APP_SECRET_ARN`) rather
  than given, read at start-up from the Secrets Manager at AWS_ENDPOINT_URL_SECRETS_MANAGER
  (moto's server: `scripts/lib.sh`'s `start_moto`), which this script gives the secret first;
- `node`: Node running the same route on @architect/functions (bench/node-routes.js under
  bench/node-runtime.js; --node-modules or NODE_PATH names the node_modules holding it), with a
  cookie from a Node post-count; its DynamoDB mode finds the table through Architect's service
  discovery, which a fake SSM in this script answers (so it is not part of Node's cold start).

Issue 14's targets: get-index's first response within 1.1x of the floor's in cookie mode (the
cookie-mode build, `get-index-cookie`), within 2x in DynamoDB mode (medians).

Then, with strace, shows that cookie mode loads no AWS configuration (no ~/.aws file touched, no
connection but the Runtime API), against DynamoDB mode as a control that does both (since the
start-up preparation, also on a cookieless GET).

With --callgrind, also counts each Rust target's instructions from exec to its first response
under valgrind (one run each; the same count every run, where the times move with the machine).

With --json FILE, also writes the medians (ms) and the bootstrap sizes (bytes) there, for
bench/compare.sh's goals: {"first_response": {"floor-one-thread": ..., "get-index/cookie": ...},
"bootstrap_bytes": {"get-index": ..., ...}}.

Python 3 standard library only. Usage: bench/coldstart.py [--runs N] [--lambda-dir DIR]
[--targets floor,get-index,node] [--modes cookie,dynamodb,secrets] [--node-modules DIR] [--no-strace]
[--json FILE] [--callgrind]
(after a release build of app.arc's HTTP routes and the floors, as bench/compare.sh does:
`cargo lambda build --release --compiler cargo $(cargo arc functions --http | sed 's/^/--bin=/')
--bin floor --bin floor-one-thread`, and on its own `cargo lambda build --release --compiler cargo
-p cookie-route`).
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
import urllib.error
import urllib.request
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(ROOT, "crates/arc-functions/tests/fixtures/apigw_v2_request.json")
# The hello-world floors beside the app's HTTP routes, which app.arc alone lists.
FLOORS = ["floor", "floor-one-thread"]
# get-index as a cookie-mode app builds it (bench/cookie-route), beside the route as the example
# app builds it (DynamoDB in).
COOKIE_ROUTE = "get-index-cookie"
SECRET = "cold-start benchmark secret: forty-eight bytes!!"  # no comma: it separates rotated secrets
TABLE = "bigsesh-session"
API = "/2018-06-01/runtime"
LAMBDA_DIR = os.path.join(ROOT, "target/lambda")  # --lambda-dir: another build to compare
NODE_RUNTIME = os.path.join(ROOT, "bench/node-runtime.js")
NODE_ROUTES = os.path.join(ROOT, "bench/node-routes.js")


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


def lambda_env(port, route, home, extra):
    """What Lambda's provided.al2023 runtime gives a function, and nothing from this shell."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
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


def put_secret(endpoint, name, value):
    """Creates (or overwrites) a secret in a local Secrets Manager, which checks no signature."""
    for target, body in (("CreateSecret", {"Name": name, "SecretString": value}),
                         ("PutSecretValue", {"SecretId": name, "SecretString": value})):
        request = urllib.request.Request(endpoint, data=json.dumps(body).encode(), headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"secretsmanager.{target}",
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/secretsmanager/aws4_request, "
                             "SignedHeaders=host, Signature=0",
        })
        try:
            urllib.request.urlopen(request, timeout=10).read()
            return
        except urllib.error.HTTPError as e:
            if target == "CreateSecret" and e.code == 400:
                continue  # it exists: put a new current version instead
            raise


def bootstrap(route):
    return [os.path.join(LAMBDA_DIR, route, "bootstrap")]


def node(export):
    return [shutil.which("node") or "node", NODE_RUNTIME, NODE_ROUTES, export]


def invoke(server, command, body, env, wrap=(), before_kill=None):
    """Execs the function once for one event; returns (poll ms, response ms, peak RSS KiB, JSON,
    CPU ms). `before_kill(pid)` runs once it has polled again, before it is killed."""
    inv = server.invocation = Invocation(body)
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter_ns()
        proc = subprocess.Popen([*wrap, *command], env=env, stdout=subprocess.DEVNULL, stderr=err)
        try:
            if not inv.responded.wait(30) or inv.error:
                err.seek(0)
                sys.exit(f"{command}: {inv.error or 'no response'}\n{err.read().decode()[-2000:]}")
            inv.polled_again.wait(5)
            with open(f"/proc/{proc.pid}/status") as f:
                hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
            cpu = cpu_ms(proc.pid)
            if before_kill:
                before_kill(proc.pid)
        finally:
            proc.kill()
            proc.wait()
            inv.finished.set()
    ms = lambda t: (t - t0) / 1e6  # noqa: E731
    return ms(inv.t_poll), ms(inv.t_response), hwm, json.loads(inv.response), cpu


def instructions(server, command, body, env):
    """The instructions a function runs from exec to its response (and its next poll), counted
    by callgrind: one run, and the same count every run, where wall time moves with the
    machine. The function is killed, not stopped, so callgrind is asked for its dump first."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")

        def dump(pid):
            subprocess.run(["callgrind_control", "--dump", str(pid)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=False)
            for _ in range(200):
                dumped = [f for f in os.listdir(tmp) if f.startswith("callgrind.out.")]
                if dumped and os.path.getsize(os.path.join(tmp, dumped[0])):
                    time.sleep(0.2)  # written in full by now: a few hundred KB
                    return
                time.sleep(0.05)

        invoke(server, command, body, env, ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"], dump)
        for name in os.listdir(tmp):
            with open(os.path.join(tmp, name), errors="replace") as f:
                for line in f:
                    if line.startswith("totals:"):
                        return int(line.split()[1])
    return None


def cpu_ms(pid):
    """CPU time the process's live threads have run so far (schedstat, ns resolution): unlike
    wall time, it hardly moves with the neighbours' load."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total / 1e6


def session_cookie(server, command, env):
    """A valid `_idx` cookie of this mode, from one POST /count (so count is 1)."""
    env = dict(env, AWS_LAMBDA_FUNCTION_NAME="post-count")
    *_, res, _ = invoke(server, command, event("POST", "/count"), env)
    # v2 replies carry `cookies`; arc.http puts its one cookie in the `set-cookie` header.
    cookies = res.get("cookies") or [res.get("headers", {}).get("set-cookie")]
    if not cookies[0]:
        sys.exit(f"{command}: POST /count set no cookie: {res}")
    return cookies[0].split(";")[0]


def q90(xs):
    return statistics.quantiles(xs, n=10)[8] if len(xs) > 1 else xs[0]


def measure(server, cases, runs):
    """`runs` cold starts of each case, interleaved (one of each per round, so a slow minute of
    the machine weighs on every target alike); prints a row per case and returns the medians by
    case key. A case is (key, target, mode label, command, env, event, text the body must hold)."""
    samples = {case[0]: ([], [], [], [], []) for case in cases}
    for _ in range(runs):
        for key, _target, _mode, command, env, body, expect in cases:
            poll, resp, hwm, res, cpu = invoke(server, command, body, env)
            assert res["statusCode"] == 200 and expect in res["body"], res
            polls, responses, handling, rss, cpus = samples[key]
            polls.append(poll)
            responses.append(resp)
            handling.append(resp - poll)
            rss.append(hwm / 1024)
            cpus.append(cpu)
    results = {}
    for key, target, mode, *_ in cases:
        polls, responses, handling, rss, cpus = samples[key]
        print(f"| {target} | {mode} | {statistics.median(polls):.2f} | {q90(polls):.2f} "
              f"| {statistics.median(responses):.2f} | {q90(responses):.2f} "
              f"| {statistics.median(handling):.2f} | {statistics.median(cpus):.2f} "
              f"| {statistics.median(rss):.1f} | {max(rss):.1f} |", flush=True)
        results[key] = {"poll": statistics.median(polls), "response": statistics.median(responses),
                        "response_p90": q90(responses), "cpu": statistics.median(cpus)}
    return results


class FakeSsm(http.server.BaseHTTPRequestHandler):
    """Architect's service discovery (SSM GetParametersByPath), answered with the session table."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"Parameters": [
            {"Name": "/BigseshTesting/tables/session", "Type": "String", "Value": TABLE}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def traced(server, extra, cookie, home):
    """Runs get-index once under strace; returns (~/.aws paths touched, connect() targets)."""
    log = os.path.join(home, "strace.log")
    env = lambda_env(server.server_address[1], "get-index", home, extra)
    wrap = ["strace", "-f", "-qq", "-e", "trace=openat,statx,newfstatat,connect", "-o", log]
    invoke(server, bootstrap("get-index"), event("GET", "/", cookie), env, wrap)
    with open(log) as f:
        text = f.read()
    aws = sorted({m for m in re.findall(r'"([^"]*\.aws[^"]*)"', text)})
    peers = sorted({f"{a}:{p}" for p, a in re.findall(
        r'connect\(\d+, \{sa_family=AF_INET6?, sin6?_port=htons\((\d+)\), [^}]*?"([\d.:a-f]+)"', text)})
    return aws, peers


def http_routes():
    """The HTTP routes of app.arc, as `cargo arc functions --http` lists them."""
    out = subprocess.run(["cargo", "run", "--quiet", "-p", "cargo-arc", "--", "functions", "--http"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    routes = out.split()
    if not routes:
        sys.exit("cargo arc functions --http listed no route of app.arc")
    return routes


def sizes():
    """Prints the bootstraps' sizes, and returns them by route."""
    found = {}
    print(f"\nRelease bootstraps ({os.path.relpath(LAMBDA_DIR, ROOT)}/<route>/bootstrap), zipped with deflate:\n")
    print("| route | bootstrap bytes | zip bytes |\n|---|---:|---:|")
    for route in http_routes() + [COOKIE_ROUTE] + FLOORS:
        path = os.path.join(LAMBDA_DIR, route, "bootstrap")
        if not os.path.exists(path):
            print(f"| {route} | not built | |")
            continue
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.write(path, "bootstrap")
        print(f"| {route} | {os.path.getsize(path):,} | {len(buf.getvalue()):,} |")
        found[route] = os.path.getsize(path)
    return found


def main():
    global LAMBDA_DIR
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--lambda-dir", default=LAMBDA_DIR, help="where <route>/bootstrap are")
    ap.add_argument("--targets", default="floor,get-index,node")
    ap.add_argument("--modes", default="cookie,dynamodb,secrets")
    ap.add_argument("--node-modules", default=os.environ.get("NODE_PATH"),
                    help="node_modules holding @architect/functions (default: NODE_PATH)")
    ap.add_argument("--no-strace", action="store_true", help="skip the strace check")
    ap.add_argument("--json", help="also write the medians and sizes to this file")
    ap.add_argument("--callgrind", action="store_true",
                    help="also count each Rust target's instructions to its first response (valgrind)")
    args = ap.parse_args()
    LAMBDA_DIR = os.path.abspath(args.lambda_dir)
    targets, modes = args.targets.split(","), args.modes.split(",")

    bootstrap_bytes = sizes()
    server = start_api()
    port = server.server_address[1]
    ssm = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeSsm)
    ssm.daemon_threads = True
    threading.Thread(target=ssm.serve_forever, daemon=True).start()
    home = tempfile.mkdtemp(prefix="coldstart-home-")  # an empty HOME: no ~/.aws of this machine
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    dynamo = {
        "SESSION_TABLE_NAME": TABLE,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint or "",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    keys = {k: v for k, v in dynamo.items() if k.startswith("AWS_")}
    secrets_endpoint = os.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER")
    aws = {k: v for k, v in keys.items() if k != "AWS_ENDPOINT_URL_DYNAMODB"}
    secrets = dict(aws, ARC_APP_SECRET="", ARC_APP_SECRET_ARN="bench/coldstart-secret",
                   AWS_ENDPOINT_URL_SECRETS_MANAGER=secrets_endpoint or "")
    if secrets_endpoint and "secrets" in modes:
        put_secret(secrets_endpoint, "bench/coldstart-secret", SECRET)
    node_env = {"NODE_PATH": args.node_modules or ""}
    node_modes = {
        "cookie": dict(node_env, ARC_SESSION_TABLE_NAME="jwe"),
        # ARC_ENV=testing: functions' local mode, where ARC_SANDBOX gives the endpoints.
        "dynamodb": dict(node_env, **keys, ARC_ENV="testing", ARC_APP_NAME="bigsesh",
                         ARC_SESSION_TABLE_NAME="session", ARC_SANDBOX=json.dumps({"version": "8.0.0", "ports": {
                             "tables": int((endpoint or ":0").rsplit(":", 1)[1]),
                             "_arc": ssm.server_address[1]}})),
    }
    label = {"cookie": "cookie", "dynamodb": "DynamoDB", "secrets": "cookie, secret from Secrets Manager"}
    results = {}
    try:
        cases, skipped = [], []
        if "floor" in targets:
            # The one-thread floor is optional: older builds of the bench have only the floor.
            for floor in ("floor", "floor-one-thread"):
                if floor != "floor" and not os.path.exists(bootstrap(floor)[0]):
                    skipped.append(f"| {floor} | SKIPPED: not built (--bin {floor}) |")
                    continue
                cases.append((floor, floor, "none", bootstrap(floor),
                              lambda_env(port, "floor", home, {}), event("GET", "/"), "hello"))
        for target in ("get-index", "node"):
            if target not in targets:
                continue
            if target == "node" and not args.node_modules:
                skipped.append("| node | SKIPPED: no --node-modules or NODE_PATH with @architect/functions |")
                continue
            for mode in modes:
                if mode == "dynamodb" and not endpoint:
                    skipped.append(f"| {target} | SKIPPED DynamoDB mode: AWS_ENDPOINT_URL_DYNAMODB is unset |")
                    continue
                if mode == "secrets" and (target != "get-index" or not secrets_endpoint):
                    if target == "get-index":
                        skipped.append("| get-index | SKIPPED secrets mode: AWS_ENDPOINT_URL_SECRETS_MANAGER is unset |")
                    continue
                if target == "get-index":
                    extra = {"dynamodb": dynamo, "secrets": secrets}.get(mode, {})
                    get, post = bootstrap("get-index"), bootstrap("post-count")
                else:
                    extra = node_modes[mode]
                    get, post = node("getIndex"), node("postCount")
                env = lambda_env(port, "get-index", home, extra)
                cookie = session_cookie(server, post, env)
                results[(target, mode, "cookie")] = cookie
                cases.append(((target, mode), target, label[mode], get, env,
                              event("GET", "/", cookie), "Count 1"))
                if target == "get-index" and mode in ("cookie", "secrets"):
                    if os.path.exists(bootstrap(COOKIE_ROUTE)[0]):
                        cases.append(((COOKIE_ROUTE, mode), COOKIE_ROUTE, label[mode],
                                      bootstrap(COOKIE_ROUTE), env, event("GET", "/", cookie), "Count 1"))
                    else:
                        skipped.append(f"| {COOKIE_ROUTE} | SKIPPED: not built (-p cookie-route) |")
        print(f"\nCold start, {args.runs} runs each, interleaved (each round starts every target "
              f"once), ms from exec (first response: to the response posted; poll → response: "
              f"the invocation itself):\n")
        print("| target | mode | first poll median | p90 | first response median | p90 "
              "| poll → response median | CPU ms to response median | peak RSS MiB median | max |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        results.update(measure(server, cases, args.runs))
        for line in skipped:
            print(line)
        if args.callgrind:
            print("\nInstructions from exec to the first response (callgrind, one run each; the "
                  "dynamic loader's relocation included):\n")
            print("| target | mode | instructions |\n|---|---|---:|")
            for _key, target, mode, command, env, body, _ in cases:
                if target != "node":
                    n = instructions(server, command, body, env)
                    print(f"| {target} | {mode} | {n:,} |" if n else f"| {target} | {mode} | not counted |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({
                    "first_response": {key if isinstance(key, str) else "/".join(key): r["response"]
                                       for key, r in results.items() if isinstance(r, dict)},
                    "bootstrap_bytes": bootstrap_bytes,
                }, f)

        floor = results.get("floor")
        if floor:
            print()
            for (target, mode), bound in [(("get-index", "cookie"), None), ((COOKIE_ROUTE, "cookie"), 1.1),
                                          (("get-index", "dynamodb"), 2),
                                          (("get-index", "secrets"), None),
                                          (("node", "cookie"), None), (("node", "dynamodb"), None)]:
                r = results.get((target, mode))
                if not r:
                    continue
                ratio = r["response"] / floor["response"]
                verdict = f" (target ≤ {bound}x: {'met' if ratio <= bound else 'MISSED'})" if bound else ""
                one = results.get("floor-one-thread")
                beside = (f"; {r['response'] / one['response']:.2f}x the one-thread floor's"
                          if one and target.startswith("get-index") else "")
                print(f"- {target}, {label[mode]} mode: first response {ratio:.2f}x the floor's "
                      f"(medians {r['response']:.2f} / {floor['response']:.2f} ms){verdict}; "
                      f"CPU to the response {r['cpu'] / floor['cpu']:.2f}x the floor's{beside}")

        if args.no_strace or "get-index" not in targets:
            return
        if not shutil.which("strace"):
            print("\nSKIPPED the AWS-configuration check: strace is not installed")
            return
        print("\nWhat get-index touches (strace -f: openat/statx/newfstatat/connect), HOME empty:\n")
        print("| mode | ~/.aws paths touched | connect() to |\n|---|---|---|")
        api = f"127.0.0.1:{port} (Runtime API)"
        cases = []
        if "cookie" in modes:
            cases.append(("cookie, with cookie, no AWS region or credentials set", {},
                          results[("get-index", "cookie", "cookie")]))
        if endpoint and "dynamodb" in modes:
            cases += [("DynamoDB, with cookie (control)", dynamo, results[("get-index", "dynamodb", "cookie")]),
                      ("DynamoDB, cookieless GET (connects at start-up, by design)", dynamo, None)]
        for text, extra, c in cases:
            aws, peers = traced(server, extra, c, home)
            names = {api.split(" ")[0]: api}
            if endpoint:
                names[endpoint.split("//")[-1]] = f"{endpoint.split('//')[-1]} (dynalite)"
            peers = [names.get(p, p) for p in peers]
            print(f"| {text} | {', '.join(p.replace(home, '$HOME') for p in aws) or 'none'} "
                  f"| {', '.join(peers) or 'none'} |")
    finally:
        shutil.rmtree(home, ignore_errors=True)
        server.shutdown()
        ssm.shutdown()


if __name__ == "__main__":
    main()
