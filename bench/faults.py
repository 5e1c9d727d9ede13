#!/usr/bin/env python3
"""The counter under concurrent load while DynamoDB misbehaves: how many requests succeed, how
the rest fail, whether each failure is logged with its cause, whether any response comes after
its deadline, and whether any session is lost or its count corrupted.

ONE release `post-count` serves AWS_LAMBDA_MAX_CONCURRENCY=32 invocations at a time, in
DynamoDB mode, with AWS_ENDPOINT_URL_DYNAMODB pointing at bench/fault-proxy.js in front of a
dynalite (table bigsesh-session, as scripts/lib.sh's start_dynalite gives). The proxy throttles
(--throttle), fails (--error), drops connections (--reset) and holds answers of writes it has
made (--stall, --stall-ms) at the rates given, from a seeded PRNG (--seed). The Runtime API is
bench/concurrency.py's; it gives every event a deadline, `Lambda-Runtime-Deadline-Ms`, of now
plus --timeout-ms, as Lambda does for the function's timeout.

--clients browsers (32), each with a session of its own, POST /count for --seconds (30), one
request at a time each: the first without a cookie, the rest with the cookie it was last given.
A request succeeds when it is answered 302 by its deadline. A response after its deadline
counts as late (on Lambda the invocation would have timed out). The function's log lines
(AWS_LAMBDA_LOG_FORMAT=JSON, stdout and stderr) at ERROR or WARN are matched to the failures by
request id. At the end each client's count is read from dynalite: it must lie between the
requests of that client answered 302 and that plus its requests that failed (a failed request
may or may not have written). A session is lost when a response gives the client another
session, when its item is gone, or when its count is below what was answered; corrupted when
it is above what was sent or unreadable.

Exits non-zero unless: at least 99.9% succeed, no response is late, every failure has a logged
cause, no session is lost or corrupted.

Python 3 standard library only. Usage, with dynalite up (`source scripts/lib.sh;
start_dynalite bigsesh-session`, which exports AWS_ENDPOINT_URL_DYNAMODB), after
`cargo lambda build --release --compiler cargo --bin post-count`:

    bench/faults.py [--seconds 30] [--clients 32] [--timeout-ms 3000] [--throttle 0.05]
        [--error 0.05] [--reset 0] [--stall 0.01] [--stall-ms 2000] [--delay-ms 0] [--seed 1]
        [--lambda-dir target/lambda]
"""

import argparse
import asyncio
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coldstart  # noqa: E402  (the event fixture, the Lambda environment)
import concurrency  # noqa: E402  (the Runtime API, the fault proxy)

SUCCESS = 302
TARGET = 0.999


class Client:
    """One browser: its session and what it was answered since the session began."""

    def __init__(self, index):
        self.index = index
        self.cookie = self.session = None
        self.counted = 0  # answered 302: the count went up
        self.failed = 0  # anything else: the count may or may not have gone up
        self.lost = []  # why a session of this client was lost during the run


class FaultsApi:
    """Hands each idle client's next request to a waiting poll; records every answer."""

    def __init__(self, loop, clients, seconds, timeout_ms):
        self.clients = [Client(i) for i in range(clients)]
        self.ready = collections.deque(self.clients)
        self.waiting = collections.deque()  # polls with no request to give yet
        self.seconds, self.timeout_ms = seconds, timeout_ms
        self.issued = 0
        self.in_flight = {}  # request id -> (client, handed out (perf ns), deadline (epoch ms))
        self.results = []  # (request id, outcome, latency ms, lateness ms or None)
        self.events = {}
        self.ends = None
        self.closed = loop.create_future()
        self.done = loop.create_future()

    def poll(self, conn):
        if self.over():
            conn.close_when(self.closed)
            self._maybe_done()
        elif self.ready:
            self.hand(conn, self.ready.popleft())
        else:
            self.waiting.append(conn)

    def over(self):
        return self.ends is not None and time.monotonic() >= self.ends

    def hand(self, conn, client):
        if self.ends is None:
            self.ends = time.monotonic() + self.seconds
        rid = f"req-{self.issued}"
        self.issued += 1
        event = self.events.get(client.cookie)
        if event is None:
            event = self.events[client.cookie] = coldstart.event("POST", "/count", client.cookie)
        deadline = int(time.time() * 1000) + self.timeout_ms
        self.in_flight[rid] = (client, time.perf_counter_ns(), deadline)
        conn.deliver(rid, event, deadline_ms=deadline)

    def respond(self, rid, body):
        try:
            res = json.loads(body)
            status = res.get("statusCode")
        except ValueError:
            res, status = {}, "unreadable"
        self._record(rid, status, res)

    def error(self, path, body):
        self._record(path.split("/")[-2], "runtime error", {})

    def _record(self, rid, status, res):
        posted = time.time() * 1000
        client, t_out, deadline = self.in_flight.pop(rid)
        latency = (time.perf_counter_ns() - t_out) / 1e6
        late = posted - deadline if posted > deadline else None
        outcome = str(status) if late is None else f"{status} late"
        self.results.append((rid, outcome, latency, late))
        cookies = res.get("cookies") or res.get("multiValueHeaders", {}).get("set-cookie", [])
        given = next((c.split(";")[0] for c in cookies if c.startswith("_idx=")), None)
        if given:
            session = urllib.parse.unquote(given.split("=", 1)[1]).rsplit(".", 1)[0]
            if client.session is None:
                client.counted = client.failed = 0
            elif session != client.session:
                client.lost.append(f"{rid} answered {status} with another session")
                client.counted = client.failed = 0
            client.cookie, client.session = given, session
        if client.session is not None:
            if status == SUCCESS:
                client.counted += 1
            else:
                client.failed += 1
        self.ready.append(client)
        while self.ready and self.waiting and not self.over():
            self.hand(self.waiting.popleft(), self.ready.popleft())
        self._maybe_done()

    def _maybe_done(self):
        if self.over() and not self.in_flight and not self.done.done():
            self.done.set_result(None)


def dynalite_item(endpoint, session):
    """The session's item, read from dynalite itself (past the proxy), or None."""
    request = urllib.request.Request(endpoint, data=json.dumps({
        "TableName": coldstart.TABLE, "Key": {"_idx": {"S": session}}, "ConsistentRead": True,
    }).encode(), headers={
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.GetItem",
        # dynalite checks a signature's shape, never its value.
        "X-Amz-Date": "20240101T000000Z",
        "Authorization": "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host;x-amz-date, Signature=0",
    })
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer).get("Item")


def log_causes(log):
    """The function's JSON log lines at ERROR or WARN: those that name a cause (an `error` or
    `panic` field, as the library logs a failure), {request id: [text]}; and the messages of
    the others (the SDK's own, say), counted."""
    causes, others = collections.defaultdict(list), collections.Counter()
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict) or entry.get("level") not in ("ERROR", "WARN"):
            continue
        fields = entry.get("fields", {})
        cause = fields.get("error") or fields.get("panic")
        rid = next((s["requestId"] for s in [entry.get("span", {}), *entry.get("spans", [])]
                    if isinstance(s, dict) and "requestId" in s), None)
        if cause and rid:
            causes[rid].append(f"{entry['level']} {fields.get('message', '')}: {cause}")
        else:
            others[f"{entry['level']} {fields.get('message', '')}"] += 1
    return causes, others


async def run(args, endpoint, bootstrap):
    loop = asyncio.get_running_loop()
    proxy_err = tempfile.TemporaryFile()
    proxy, proxied = await concurrency.start_fault_proxy(
        endpoint, "--seed", args.seed, "--delay-ms", args.delay_ms, "--throttle", args.throttle,
        "--throttle-code", args.throttle_code, "--error", args.error, "--reset", args.reset,
        "--stall", args.stall, "--stall-ms", args.stall_ms, stderr=proxy_err)
    api = FaultsApi(loop, args.clients, args.seconds, args.timeout_ms)
    server = await loop.create_server(lambda: concurrency.Connection(api), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    home = tempfile.mkdtemp(prefix="faults-home-")
    env = coldstart.lambda_env(port, "post-count", home, {
        "SESSION_TABLE_NAME": coldstart.TABLE,
        "AWS_ENDPOINT_URL_DYNAMODB": proxied,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_LAMBDA_MAX_CONCURRENCY": str(args.clients),
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
    })
    problems = []
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen([bootstrap], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            give_up = time.monotonic() + args.seconds + args.timeout_ms / 1000 + 60
            while not api.done.done():
                await asyncio.wait([api.done], timeout=0.2)
                if proc.poll() is not None:
                    problems.append(f"the function exited ({proc.returncode})")
                    break
                if time.monotonic() > give_up:
                    problems.append(f"gave up waiting: {len(api.in_flight)} requests unanswered")
                    break
            with urllib.request.urlopen(f"{proxied}/__faults", timeout=10) as answer:
                faults = json.load(answer)
        finally:
            proc.kill()
            proc.wait()
            api.closed.set_result(None)
            server.close()
            proxy.terminate()
            await proxy.wait()
            subprocess.run(["rm", "-rf", home])
        out.seek(0)
        log = out.read().decode(errors="replace")
    for rid, (client, _, _) in api.in_flight.items():
        api.results.append((rid, "unanswered", None, None))
        client.failed += 1
    return api, faults, log, problems


def report(args, api, faults, log, problems, endpoint):
    results = api.results
    n = len(results)
    ok = sum(1 for _, outcome, _, _ in results if outcome == str(SUCCESS))
    failures = [(rid, outcome) for rid, outcome, _, _ in results if outcome != str(SUCCESS)]
    by_outcome = collections.Counter(outcome for _, outcome in failures)
    late = [lateness for _, _, _, lateness in results if lateness is not None]
    causes, others = log_causes(log)
    explained = [rid for rid, _ in failures if causes.get(rid)]
    latencies = sorted(lat for _, _, lat, _ in results if lat is not None)
    pct = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))]  # noqa: E731

    print(f"requests: {n:,} in {args.seconds:g} s from {args.clients} clients "
          f"(deadline {args.timeout_ms} ms after each is handed out)")
    print(f"successes (302 by the deadline): {ok:,} ({100 * ok / max(n, 1):.3f}%)")
    print("failures by status: " + (", ".join(f"{k}: {v:,}" for k, v in sorted(by_outcome.items()))
                                    or "none"))
    print(f"failures with an ERROR/WARN line naming their cause: {len(explained):,} of {len(failures):,}")
    # The cause without what varies from one request to the next (durations, in parentheses).
    samples = collections.Counter(re.sub(r" \(.*", "", text)
                                  for rid, _ in failures for text in causes.get(rid, []))
    for text, count in samples.most_common(6):
        print(f"  {count:>6,} x {text[:200]}")
    if others:
        print(f"other ERROR/WARN lines (no cause named): {sum(others.values()):,}")
        for text, count in others.most_common(3):
            print(f"  {count:>6,} x {text[:200]}")
    if late:
        print(f"responses after their deadline: {len(late):,}, the latest {max(late):,.0f} ms late")
    else:
        print("responses after their deadline: 0")
    if latencies:
        print(f"latency, handed out to answered: p50 {pct(0.50):.1f} ms, p99 {pct(0.99):.1f} ms, "
              f"max {latencies[-1]:.1f} ms")
    print(f"proxy's faults: {json.dumps(faults)}")

    lost, corrupted, checked, total = [], [], 0, 0
    now = time.time()
    for client in api.clients:
        for why in client.lost:
            lost.append(f"client {client.index}: {why}")
        if client.session is None:
            continue
        checked += 1
        item = dynalite_item(endpoint, client.session)
        low, high = client.counted, client.counted + client.failed
        if item is None:
            lost.append(f"client {client.index}: its session's item is gone")
            continue
        if float(item.get("_ttl", {}).get("N", "inf")) < now:
            lost.append(f"client {client.index}: its session expired")
        try:
            count = int(item["count"]["N"])
        except (KeyError, ValueError):
            corrupted.append(f"client {client.index}: no count in {json.dumps(item)[:200]}")
            continue
        total += count
        if count < low:
            lost.append(f"client {client.index}: count {count} below the {low} answered 302")
        elif count > high:
            corrupted.append(f"client {client.index}: count {count} above {low} answered 302 "
                             f"plus {client.failed} failed")
    counted = sum(c.counted for c in api.clients if c.session)
    failed = sum(c.failed for c in api.clients if c.session)
    print(f"sessions: {checked} checked, their counts add up to {total:,} (answered 302: "
          f"{counted:,}, failed: {failed:,}); lost: {len(lost)}; corrupted: {len(corrupted)}")
    for line in (lost + corrupted)[:10]:
        print(f"  {line}")

    missed = list(problems)
    if ok < TARGET * n or not n:
        missed.append(f"successes {100 * ok / max(n, 1):.3f}% < {100 * TARGET:g}%")
    if late:
        missed.append(f"{len(late)} responses after their deadline")
    if len(explained) < len(failures):
        missed.append(f"{len(failures) - len(explained)} failures without a logged cause")
    if lost or corrupted:
        missed.append(f"{len(lost)} sessions lost, {len(corrupted)} corrupted")
    for line in missed:
        print(f"MISSED: {line}")
    return not missed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=30, help="how long clients send requests")
    ap.add_argument("--clients", type=int, default=32, help="clients, and AWS_LAMBDA_MAX_CONCURRENCY")
    ap.add_argument("--timeout-ms", type=int, default=3000, help="each invocation's deadline from now")
    ap.add_argument("--throttle", type=float, default=0.05)
    ap.add_argument("--throttle-code", default="ProvisionedThroughputExceededException")
    ap.add_argument("--error", type=float, default=0.05)
    ap.add_argument("--reset", type=float, default=0)
    ap.add_argument("--stall", type=float, default=0.01)
    ap.add_argument("--stall-ms", type=int, default=2000)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lambda-dir", default=coldstart.LAMBDA_DIR, help="where post-count/bootstrap is")
    args = ap.parse_args()
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    if not endpoint:
        sys.exit("AWS_ENDPOINT_URL_DYNAMODB is unset: start dynalite (scripts/lib.sh's start_dynalite)")
    bootstrap = os.path.join(os.path.abspath(args.lambda_dir), "post-count", "bootstrap")
    if not os.path.exists(bootstrap):
        sys.exit(f"no {bootstrap}: cargo lambda build --release --compiler cargo --bin post-count")
    print(f"faults: throttle {args.throttle} ({args.throttle_code}), error {args.error}, "
          f"reset {args.reset}, stall {args.stall} for {args.stall_ms} ms, delay {args.delay_ms} ms, "
          f"seed {args.seed}; load average {os.getloadavg()[0]:.2f}")
    api, faults, log, problems = asyncio.run(run(args, endpoint, bootstrap))
    sys.exit(0 if report(args, api, faults, log, problems, endpoint) else 1)


if __name__ == "__main__":
    main()
