#!/usr/bin/env python3
"""Throughput and latency of one warm release `post-count` serving invocations concurrently.

A local Lambda Runtime API (asyncio, keep-alive) hands every outstanding
`GET /2018-06-01/runtime/invocation/next` long-poll its own event, with its own request id, and
`POST .../invocation/<id>/response` completes it. For each AWS_LAMBDA_MAX_CONCURRENCY level
(1, 4, 16, 64 by default) it starts ONE process with that setting and LEVEL clients, each with
at most one request in flight: a closed loop where a poll gets the next idle client's request
at once (the function polls for as many events as it runs at a time, so one is always idle; a
poll that finds none waits for a response). Each client's first request is a cookieless
POST /count, which starts a session of the client's own; every later request of that client
carries the cookie that first response set, so it reads the client's session and writes it
back. No two requests in flight ever write the same session, so the session's version check
(`409 Conflict` for a write to a session another request wrote after this one read it) never
has cause to answer; any response but a 302 counts as a failure and the script exits. After the
warm-up (and once every client has its cookie) it measures for --seconds and reports requests
per second and the p50 and p99 latency from handing an event out to its response being posted.

Modes: `null` (bench/null-function.js, a Node function that answers at once: the harness's own
ceiling on this machine), `cookie`, `dynamodb` (AWS_ENDPOINT_URL_DYNAMODB, a dynalite with table
bigsesh-session, as scripts/lib.sh's start_dynalite gives) and `dynamodb+5ms` (the same through
bench/fault-proxy.js with `--delay-ms 5` and no faults: it waits 5 ms before forwarding each
DynamoDB request). Issue 14's
target, with the delay: 16 concurrent serve at least 8x the requests per second of 1.

Also checks each process's stderr: a route must not say "concurrency-tokio feature is not
enabled" (which would mean it ran sequentially whatever the setting).

Python 3 standard library only. Usage: bench/concurrency.py [--levels 1,4,16,64] [--seconds S]
[--modes null,cookie,dynamodb,dynamodb+5ms] [--lambda-dir DIR] (after
`cargo lambda build --release --compiler cargo --bin post-count`).
"""

import argparse
import asyncio
import collections
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import coldstart  # noqa: E402  (the event fixture, the Lambda environment, the constants)

ROOT = coldstart.ROOT
API = coldstart.API
NEXT = f"{API}/invocation/next"
NOT_CONCURRENT = "concurrency-tokio feature is not enabled"
DELAY_MS = 5
CLK_TCK = os.sysconf("SC_CLK_TCK")


class ConcurrentApi:
    """The Runtime API of one run: LEVEL clients, each with one session of its own and at most
    one request in flight; hands out their requests, times them, collects their cookies."""

    def __init__(self, loop, warmup, seconds, clients):
        self.warmup, self.seconds = warmup, seconds
        self.issued = 0
        self.in_flight = {}  # request id -> (client, time handed out)
        self.idle = collections.deque(range(clients))  # clients without a request in flight
        self.waiting = collections.deque()  # polls that found no idle client
        self.cookieless = coldstart.event("POST", "/count")
        self.events = [None] * clients  # client -> its event, once its first response set a cookie
        self.missing = clients  # clients still waiting for their cookie
        self.latencies = []  # ns, of the events handed out in the measured window
        self.t_start = self.deadline = self.t_last = None
        self.stopping = False
        self.errors = []
        self.closed = loop.create_future()
        self.done = loop.create_future()

    def next(self):
        """The next event for a poll, None once the run is over (the poll then waits for the
        end), or False while no client is idle (the poll waits for a response)."""
        now = time.perf_counter_ns()
        if self.t_start is None and self.issued >= self.warmup and not self.missing:
            self.t_start, self.deadline = now, now + int(self.seconds * 1e9)
        if self.stopping or (self.deadline and now >= self.deadline):
            self.stopping = True
            self._maybe_done()
            return None
        if not self.idle:
            return False
        client = self.idle.popleft()
        # A client's first request has no cookie (its response sets the client's session's);
        # until that response is in, the client has no other request in flight.
        body = self.events[client] or self.cookieless
        rid = f"req-{self.issued}"
        self.issued += 1
        self.in_flight[rid] = (client, time.perf_counter_ns())
        return rid, body

    def poll(self, conn):
        """Answers a poll of the function's with the next idle client's request."""
        got = self.next()
        if got is None:
            conn.close_when(self.closed)
        elif got is False:
            self.waiting.append(conn)
        else:
            conn.deliver(*got, deadline_ms=int(time.time() * 1000) + 30_000)

    def respond(self, rid, body):
        t = time.perf_counter_ns()
        client, t_out = self.in_flight.pop(rid)
        if b'"statusCode":302' not in body:
            self.fail(f"{rid}: {body[:300].decode(errors='replace')}")
        elif self.events[client] is None:
            res = json.loads(body)
            cookies = res.get("cookies") or res.get("multiValueHeaders", {}).get("set-cookie", [])
            self.events[client] = coldstart.event("POST", "/count", cookies[0].split(";")[0])
            self.missing -= 1
        if self.t_start is not None and t_out >= self.t_start and t_out < self.deadline:
            self.latencies.append(t - t_out)
            self.t_last = t
        self._idle(client)

    def error(self, path, body):
        rid = path.split("/")[-2]
        client = self.in_flight.pop(rid, (None,))[0]
        self.fail(f"{path}: {body[:300].decode(errors='replace')}")
        if client is not None:
            self._idle(client)
        else:
            self._maybe_done()

    def fail(self, error):
        """A failed request ends the run: once the requests in flight are in, the script exits."""
        self.errors.append(error)
        self.stopping = True

    def _idle(self, client):
        """`client`'s request is answered: it may send its next one (to a poll that waited)."""
        self.idle.append(client)
        if self.waiting:
            self.poll(self.waiting.popleft())
        self._maybe_done()

    def _maybe_done(self):
        if self.stopping and not self.in_flight and not self.done.done():
            self.done.set_result(None)
            while self.waiting:
                self.waiting.popleft().close_when(self.closed)


class Connection(asyncio.Protocol):
    """One keep-alive connection of the function's runtime client; HTTP/1.1 parsed by hand
    (a Protocol, not asyncio streams: this harness's own cost per request is what limits the
    cookie mode's figures).

    `api` decides what the function gets: `api.poll(conn)` for each `/next`, which answers with
    `conn.deliver` (at once or later: the poll waits meanwhile) or gives up on it with
    `conn.close_when`; `api.respond(rid, body)` and `api.error(path, body)` for what the
    function posts."""

    def __init__(self, api):
        self.api = api
        self.buf = b""
        self.parked = False  # a poll waiting for its event

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        while not self.parked and (request := self.request()):
            self.handle(*request)

    def request(self):
        """One whole request off the buffer: (method, path, body), or None until it is all here."""
        head_end = self.buf.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        lines = self.buf[:head_end].decode().split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        at = head_end + 4
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                eol = self.buf.find(b"\r\n", at)
                if eol < 0:
                    return None
                size = int(self.buf[at:eol].split(b";")[0], 16)
                if len(self.buf) < eol + 2 + size + 2:
                    return None
                body += self.buf[eol + 2:eol + 2 + size]
                at = eol + 2 + size + 2
                if not size:
                    break
        else:
            n = int(headers.get("content-length", 0))
            if len(self.buf) < at + n:
                return None
            body, at = self.buf[at:at + n], at + n
        self.buf = self.buf[at:]
        return method, path, body

    def handle(self, method, path, body):
        write = self.transport.write
        if method == "GET" and path == NEXT:
            self.parked = True
            self.api.poll(self)
        elif method == "POST" and path.endswith("/response"):
            self.api.respond(path.split("/")[-2], body)
            write(reply(202, b'{"status":"OK"}'))
        elif method == "POST" and path.endswith("/error"):
            self.api.error(path, body)
            write(reply(202, b'{"status":"OK"}'))
        else:
            write(reply(404))


    def deliver(self, rid, event, deadline_ms):
        """Answers this connection's poll with an event due by `deadline_ms` (epoch ms)."""
        self.parked = False
        self.transport.write(reply(200, event, [
            ("Content-Type", "application/json"),
            ("Lambda-Runtime-Aws-Request-Id", rid),
            ("Lambda-Runtime-Deadline-Ms", str(deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn",
             "arn:aws:lambda:us-east-1:123456789012:function:bench"),
            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
        ]))
        # Whatever the runtime client sent meanwhile (nothing, unless it pipelines).
        self.data_received(b"")

    def close_when(self, future):
        """This poll gets no event: the run is over; the connection closes once `future` is done."""
        future.add_done_callback(lambda _: self.transport.close())


def reply(status, body=b"", headers=()):
    head = [f"HTTP/1.1 {status} {'OK' if status < 300 else 'Not Found'}"]
    head += [f"{k}: {v}" for k, v in headers]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def listener_pid(url):
    """The pid of the process listening on URL's loopback port (dynalite), or None."""
    port = int(url.rsplit(":", 1)[1].rstrip("/"))
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for row in f.read().splitlines()[1:]:
                cols = row.split()
                if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":  # LISTEN
                    inodes.add(f"socket:[{cols[9]}]")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in os.listdir(f"/proc/{pid}/fd")):
                return int(pid)
        except OSError:
            continue
    return None


def cpu_seconds(pid):
    """User plus system CPU time of a process so far (its threads included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


async def run_level(mode, command, extra, level, args, home):
    loop = asyncio.get_running_loop()
    warmup = max(args.warmup, 4 * level)
    api = ConcurrentApi(loop, warmup, args.seconds, clients=level)
    server = await loop.create_server(lambda: Connection(api), "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    env = coldstart.lambda_env(port, "post-count", home, dict(extra, AWS_LAMBDA_MAX_CONCURRENCY=str(level)))
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=err)
        harness0 = time.process_time()
        db0 = cpu_seconds(args.dynalite_pid) if args.dynalite_pid and "SESSION_TABLE_NAME" in extra else None
        try:
            cpu = db = None
            give_up = time.monotonic() + args.seconds + 120
            while not api.done.done():
                await asyncio.wait([api.done], timeout=0.2)
                if proc.poll() is not None:
                    api.errors.append(f"the process exited ({proc.returncode})")
                    break
                if time.monotonic() > give_up:
                    api.errors.append(f"timed out: {api.issued} events handed out, "
                                      f"{len(api.in_flight)} in flight")
                    break
            else:
                cpu = cpu_seconds(proc.pid)
                db = cpu_seconds(args.dynalite_pid) - db0 if db0 is not None else None
        finally:
            harness = time.process_time() - harness0
            proc.kill()
            proc.wait()
            api.closed.set_result(None)
            server.close()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    lat = sorted(api.latencies)
    n = len(lat)
    if not n or api.errors:
        sys.exit(f"{mode} x{level}: {n} measured; errors: {api.errors[:3]}\nstderr: {stderr[-2000:]}")
    rps = n / ((api.t_last - api.t_start) / 1e9)
    pct = lambda p: lat[min(n - 1, int(p * n))] / 1e6  # noqa: E731
    # Harness CPU counts from the process's start (its warm-up too); per request over all events.
    row = dict(mode=mode, level=level, n=n, rps=rps, p50=pct(0.50), p99=pct(0.99),
               cpu_us=cpu * 1e6 / api.issued if cpu is not None else None,
               harness_us=harness * 1e6 / api.issued,
               db_us=db * 1e6 / api.issued if db is not None else None,
               not_concurrent=NOT_CONCURRENT in stderr,
               stderr=[line for line in stderr.splitlines() if line.strip()])
    cpu_text = f"{row['cpu_us']:.0f}" if row["cpu_us"] is not None else "n/a"
    print(f"| {mode} | {level} | {n:,} | {rps:,.0f} | {row['p50']:.2f} | {row['p99']:.2f} "
          f"| {cpu_text} | {row['harness_us']:.0f} "
          f"| {'' if row['db_us'] is None else format(row['db_us'], '.0f')} |", flush=True)
    return row


async def start_fault_proxy(endpoint, *options, stderr=None):
    """bench/fault-proxy.js in front of `endpoint` with `options` (its flags): the process and
    its URL. Stop it with SIGTERM to have its counts on `stderr`."""
    proc = await asyncio.create_subprocess_exec(
        "node", os.path.join(ROOT, "bench/fault-proxy.js"), endpoint, *map(str, options),
        stdout=asyncio.subprocess.PIPE, stderr=stderr)
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    m = re.match(rb"READY (\d+)", line)
    if not m:
        proc.kill()
        sys.exit(f"bench/fault-proxy.js did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(m.group(1))}"


async def main_async(args):
    bootstrap = os.path.join(args.lambda_dir, "post-count", "bootstrap")
    endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    dynamo = lambda url: {  # noqa: E731
        "SESSION_TABLE_NAME": coldstart.TABLE,
        "AWS_ENDPOINT_URL_DYNAMODB": url,
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
    # dynalite's own CPU time: on this machine it, not the function, is what saturates first.
    args.dynalite_pid = listener_pid(endpoint) if endpoint else None
    home = tempfile.mkdtemp(prefix="concurrency-home-")
    proxy = None
    rows = []
    print(f"\nOne warm post-count per level, closed loop, {args.seconds:g} s measured after "
          f"max({args.warmup}, 4 x level) events of warm-up; latency from event handed out to "
          f"response posted:\n")
    print("| mode | concurrency | requests | requests/s | p50 ms | p99 ms "
          "| function CPU µs/request | harness CPU µs/request | dynalite CPU µs/request |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    try:
        for mode in args.modes:
            if mode == "null":
                command, extra = ["node", os.path.join(ROOT, "bench/null-function.js")], {}
            elif mode == "cookie":
                command, extra = [bootstrap], {}
            elif not endpoint:
                print(f"| {mode} | SKIPPED: AWS_ENDPOINT_URL_DYNAMODB is unset |")
                continue
            elif mode == "dynamodb":
                command, extra = [bootstrap], dynamo(endpoint)
            elif mode == "dynamodb+5ms":
                if proxy is None:
                    proxy, proxied = await start_fault_proxy(endpoint, "--delay-ms", DELAY_MS)
                command, extra = [bootstrap], dynamo(proxied)
            else:
                sys.exit(f"unknown mode {mode}")
            for level in args.levels:
                rows.append(await run_level(mode, command, extra, level, args, home))
    finally:
        if proxy:
            proxy.kill()
            await proxy.wait()
        subprocess.run(["rm", "-rf", home])
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--levels", default="1,4,16,64", help="AWS_LAMBDA_MAX_CONCURRENCY values")
    ap.add_argument("--seconds", type=float, default=5, help="measured time per level")
    ap.add_argument("--warmup", type=int, default=200, help="events before measuring (at least 4 x level)")
    ap.add_argument("--modes", default="null,cookie,dynamodb,dynamodb+5ms")
    ap.add_argument("--lambda-dir", default=coldstart.LAMBDA_DIR, help="where post-count/bootstrap is")
    args = ap.parse_args()
    args.levels = [int(x) for x in args.levels.split(",")]
    args.modes = args.modes.split(",")
    args.lambda_dir = os.path.abspath(args.lambda_dir)
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    rows = asyncio.run(main_async(args))
    print(f"\nload average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")

    print()
    for r in rows:
        if r["mode"] != "null" and r["level"] > 1 and r["not_concurrent"]:
            print(f"- MISSED: {r['mode']} x{r['level']}: stderr says '{NOT_CONCURRENT}'")
    checked = [r for r in rows if r["mode"] != "null" and r["level"] > 1]
    if checked and not any(r["not_concurrent"] for r in checked):
        print(f"- no process with AWS_LAMBDA_MAX_CONCURRENCY > 1 logged '{NOT_CONCURRENT}' "
              f"({len(checked)} checked)")
    lines = sorted({line for r in rows if r["mode"] != "null" for line in r["stderr"]})
    if lines:
        print(f"- the routes' stderr ({len(lines)} distinct lines): " + "; ".join(lines[:5]))
    else:
        print("- the routes wrote nothing to stderr")
    by = {(r["mode"], r["level"]): r["rps"] for r in rows}
    for mode in ("cookie", "dynamodb", "dynamodb+5ms"):
        one, sixteen = by.get((mode, 1)), by.get((mode, 16))
        if one and sixteen:
            ok = sixteen >= 8 * one
            target = f" (issue 14's target with the delay, ≥ 8x: {'met' if ok else 'MISSED'})" \
                if mode == "dynamodb+5ms" else ""
            print(f"- {mode}: 16 concurrent serve {sixteen / one:.1f}x the requests/s of 1{target}")
    ceiling = max((r["rps"] for r in rows if r["mode"] == "null"), default=None)
    if ceiling:
        print(f"- the harness's ceiling (null function): {ceiling:,.0f} requests/s; a mode within "
              f"about 80% of it is measuring the harness, not the function")


if __name__ == "__main__":
    main()
