#!/usr/bin/env python3
"""The gateway benchmark: the public gateways benchmark's shape (four subgraphs: accounts,
inventory, products, reviews; one nested query answering about 90 KB), run against any router.

    bench/gateway/bench.py                     # Tessera's router (release build)
    bench/gateway/bench.py --hive BIN          # and Hive Router, in the same run
    bench/gateway/bench.py --seconds 20 --connections 50
    bench/gateway/bench.py --hive BIN --rounds 5   # rounds in alternating order, then medians

It serves the subgraphs from this folder (tests/testkit's data-driven fixture, release build),
composes the supergraph (their URLs are in it: any router can be pointed at it), checks the
router's answer against an oracle computed here from data/*.json, then drives the router with
wrk (closed loop, N connections) and counts every answer that is not byte-identical to the first
correct one. It prints RPS, p50/p95/p99, the router's CPU per answer and peak RSS, and the same
figures for a one-subgraph query straight to the accounts subgraph and through the router.
Figures only: nothing here passes or fails on a time.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/tessera-target"))
QUERY = open(os.path.join(HERE, "queries", "benchmark.graphql")).read()
SIMPLE = "{ users { id username name } }"


def perf(out, pid, seconds):
    """Starts recording the router's CPU into `out` (None: no recording) for most of a load
    phase. perf samples the CPU clock (this kernel has no hardware counters), and unwinds with
    DWARF because the release build keeps no frame pointers."""
    if not out:
        return None
    return subprocess.Popen(["perf", "record", "-e", "cpu-clock", "-F", "499", "--call-graph", "dwarf,16384", "-o", out, "-p", str(pid), "--", "sleep", str(max(seconds - 2, 1))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def oracle():
    """The benchmark query's answer, computed from the subgraphs' data, not by any router."""
    data = {n: json.load(open(os.path.join(HERE, "data", f"{n}.json"))) for n in ["accounts", "products", "inventory", "reviews"]}
    users = {u["id"]: u for u in data["accounts"]["entities"]["User"]}
    products = {p["upc"]: p for p in data["products"]["entities"]["Product"]}
    stock = {p["upc"]: p for p in data["inventory"]["entities"]["Product"]}
    by_user = {u["id"]: u["reviews"] for u in data["reviews"]["entities"]["User"]}
    by_product = {p["upc"]: p["reviews"] for p in data["reviews"]["entities"]["Product"]}

    def user(uid):
        u = users[uid]
        return {"id": u["id"], "username": u["username"], "name": u["name"]}

    def product(upc):
        p, s = products[upc], stock[upc]
        return {"inStock": s["inStock"], "name": p["name"], "price": p["price"], "shippingEstimate": s["shippingEstimate"], "upc": upc, "weight": p["weight"]}

    def review(r):
        return {"id": r["id"], "body": r["body"]}

    def author_with_reviews(uid):
        return {**user(uid), "reviews": [{**review(r), "product": product(r["product"]["upc"])} for r in by_user[uid]]}

    def product_with_reviews(upc):
        return {**product(upc), "reviews": [{**review(r), "author": author_with_reviews(r["author"]["id"])} for r in by_product[upc]]}

    return {
        "data": {
            "users": [{**user(u["id"]), "reviews": [{**review(r), "product": product_with_reviews(r["product"]["upc"])} for r in by_user[u["id"]]]} for u in data["accounts"]["Query"]["users"]],
            "topProducts": [product_with_reviews(p["upc"]) for p in data["products"]["Query"]["topProducts"]],
        }
    }


def post(url, query):
    req = urllib.request.Request(url, data=json.dumps({"query": query}).encode(), headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as res:
        return res.read()


def wait_for(url, proc, seconds=60, log=None):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            tail = open(log).read()[-2000:] if log else ""
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}\n{tail}")
        try:
            post(url, "{ __typename }")
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


def proc_cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = io.open(os.getenv("BENCH_BODY")):read("*a")
local expected = io.open(os.getenv("BENCH_EXPECTED")):read("*a")
local bad = 0
function response(status, headers, body)
  if status ~= 200 or body ~= expected then bad = bad + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %.0f %.0f %.0f %d\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), bad))
end
"""


def load(url, query, expected, pid, seconds, connections, work, subgraphs=None):
    """wrk against `url`; answers dict of figures. `pid`: the process whose CPU and RSS count;
    `subgraphs`: the subgraph server's pid, whose CPU is reported beside wrk's own, so a row shows
    where the two cores went (a router can go no faster than its load generator)."""
    body, exp, script = (os.path.join(work, n) for n in ("body.json", "expected.json", "bench.lua"))
    open(body, "w").write(json.dumps({"query": query}))
    open(exp, "wb").write(expected)
    open(script, "w").write(LUA)
    # wrk's threads share each response callback's state per thread; `bad` is summed per thread
    # in done(), so one thread keeps the count exact.
    cpu0 = proc_cpu_seconds(pid) if pid else 0.0
    sub0 = proc_cpu_seconds(subgraphs) if subgraphs else 0.0
    wrk0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script, url],
        env={**os.environ, "BENCH_BODY": body, "BENCH_EXPECTED": exp},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = (proc_cpu_seconds(pid) - cpu0) if pid else 0.0
    sub = (proc_cpu_seconds(subgraphs) - sub0) if subgraphs else 0.0
    wrk1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk = (wrk1.ru_utime - wrk0.ru_utime) + (wrk1.ru_stime - wrk0.ru_stime)
    m = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    requests, micros, errors, p50, p95, p99, bad = (int(x) for x in m.groups())
    secs = micros / 1e6
    return {
        "rps": requests / secs,
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "errors": errors,
        "wrong": bad,
        "requests": requests,
        "cpu_ms": 1000 * cpu / max(requests, 1),
        "cpu_cores": cpu / secs,
        "rss": peak_rss_mb(pid) if pid else 0.0,
        "wrk_cores": wrk / secs,
        "subgraph_cores": sub / secs,
    }


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def median_of(rounds):
    """One row of figures from several rounds: the median of each (peak RSS: the highest), and
    every answer counted."""
    out = {key: median(r[key] for r in rounds) for key in ("rps", "p50", "p95", "p99", "cpu_ms", "cpu_cores", "wrk_cores", "subgraph_cores")}
    out["rss"] = max(r["rss"] for r in rounds)
    for key in ("requests", "wrong", "errors"):
        out[key] = sum(r[key] for r in rounds)
    return out


TABLE_HEAD = (
    "| measure | RPS | p50 / p95 / p99 ms | router CPU ms per answer | peak RSS MB | cores: subgraphs / wrk | answers |\n"
    "|---|---|---|---|---|---|---|"
)


def row(name, r):
    return (
        f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} / {r['p95']:.1f} / {r['p99']:.1f} | {r['cpu_ms']:.2f} ({r['cpu_cores']:.2f} cores) "
        f"| {r['rss']:.0f} | {r['subgraph_cores']:.2f} / {r['wrk_cores']:.2f} | {r['requests']} ({r['wrong']} wrong, {r['errors']} errors) |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hive", help="a hive-router binary to measure beside ours")
    parser.add_argument("--baseline", help="another tessera binary (an earlier build) to measure beside this one")
    parser.add_argument("--hive-first", action="store_true", help="measure Hive Router before ours (the machine's state drifts within a run: alternate the order)")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1, help="measure every router this many times, in alternating order (the machine's state drifts within a run), and print the medians")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--profile", default="release", help="the cargo profile to build and run (profiling: no LTO, quicker to build)")
    parser.add_argument("--perf", help="record a perf profile of Tessera's router under the benchmark query into this file")
    parser.add_argument("--perf-simple", help="record a perf profile of Tessera's router under the one-subgraph query into this file")
    args = parser.parse_args()
    bin_dir = os.path.join(TARGET, args.profile)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--profile", args.profile, "--quiet", "--bin", "tessera", "-p", "tessera", "--bin", "serve-scenario", "-p", "tessera-testkit"],
                       cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": TARGET})
    work = tempfile.mkdtemp(prefix="tessera-bench-")
    procs = []

    def start(cmd, env=None, log="log"):
        p = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=open(os.path.join(work, log), "w"), stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    try:
        supergraph = os.path.join(work, "supergraph.graphql")
        subgraphs = start([os.path.join(bin_dir, "serve-scenario"), HERE, supergraph], log="subgraphs.log").pid
        for _ in range(100):
            if os.path.exists(supergraph):
                break
            time.sleep(0.1)
        accounts = re.search(r'ACCOUNTS @join__graph\(name: "accounts", url: "([^"]+)"', open(supergraph).read()).group(1)
        expected = oracle()
        routers = {}
        ours_env = {"TESSERA_ROUTER__LISTEN": "127.0.0.1:4600", "TESSERA_DATA_DIR": os.path.join(work, "data"), "RUST_LOG": "warn",
                 # A load test is one client: no per-IP budget, and no response cache (every
                 # request really executed, as for Hive below).
                 "TESSERA_ROUTER__RATE_LIMIT__PER_IP__CAPACITY": "1", "TESSERA_ROUTER__RATE_LIMIT__PER_IP__PER_SECOND": "0",
                 "TESSERA_ROUTER__RESPONSE_CACHE_ENTRIES": "0",
                 # No sharing unless asked (BENCH_DEDUP=on): Hive runs with its dedup off too.
                 "TESSERA_ROUTER__TRAFFIC__INBOUND_DEDUP": "anonymous" if os.environ.get("BENCH_DEDUP") == "on" else "off",
                 "TESSERA_ROUTER__TRAFFIC__DEDUP": "true" if os.environ.get("BENCH_DEDUP") == "on" else "false"}
        if os.environ.get("BENCH_MAX_EXECUTIONS"):
            ours_env["TESSERA_ROUTER__TRAFFIC__MAX_EXECUTIONS"] = os.environ["BENCH_MAX_EXECUTIONS"]
        if os.environ.get("BENCH_ROUTER_THREADS"):
            ours_env["TOKIO_WORKER_THREADS"] = os.environ["BENCH_ROUTER_THREADS"]
        ours = start([os.path.join(bin_dir, "tessera"), "serve", "router", "--supergraph", supergraph], env=ours_env, log="tessera.log")
        routers["Tessera"] = ("http://127.0.0.1:4600/graphql", ours, "tessera.log")
        if args.baseline:
            # The baseline build runs unbounded (an earlier build may not know the setting).
            env = {k: v for k, v in ours_env.items() if k != "TESSERA_ROUTER__TRAFFIC__MAX_EXECUTIONS"}
            env["TESSERA_ROUTER__LISTEN"] = "127.0.0.1:4650"
            env["TESSERA_DATA_DIR"] = os.path.join(work, "data-baseline")
            before = start([args.baseline, "serve", "router", "--supergraph", supergraph], env=env, log="baseline.log")
            routers["Tessera (baseline build)"] = ("http://127.0.0.1:4650/graphql", before, "baseline.log")
        if args.hive:
            dedup = "true" if os.environ.get("BENCH_DEDUP") == "on" else "false"
            config = os.path.join(work, "hive.yaml")
            open(config, "w").write(
                f"supergraph:\n  source: file\n  path: {supergraph}\nhttp:\n  host: 127.0.0.1\n  port: 4700\nlog:\n  level: warn\n"
                f"traffic_shaping:\n  router:\n    dedupe:\n      enabled: {dedup}\n  all:\n    dedupe_enabled: {dedup}\n"
            )
            hive = start([args.hive], env={"HIVE_CONFIG_FILE_PATH": config, "ROUTER_CONFIG_FILE_PATH": config}, log="hive.log")
            routers["Hive Router"] = ("http://127.0.0.1:4700/graphql", hive, "hive.log")
        if args.hive_first and "Hive Router" in routers:
            routers = {"Hive Router": routers["Hive Router"], **{k: v for k, v in routers.items() if k != "Hive Router"}}
        for name, (url, proc, log) in routers.items():
            wait_for(url, proc, log=os.path.join(work, log))
            answer = post(url, QUERY)
            if json.loads(answer) != expected:
                print(f"{name} answers the benchmark query wrongly; see {work}")
                return 1
            print(f"{name}: the answer ({len(answer)} bytes) equals the oracle")
        direct_answer = post(accounts, SIMPLE)

        print(f"\nwrk, {args.connections} connections, {args.seconds} s each, this machine ({os.cpu_count()} cores)\n")
        print(TABLE_HEAD)
        rounds = {name: [] for name in routers}
        directs = []

        def measure(name, query, profile, n):
            """One router under one query; the first round of ours is recorded when asked."""
            url, proc, _ = routers[name]
            recorder = perf(profile, proc.pid, args.seconds) if name == "Tessera" and n == 0 else None
            result = load(url, query, post(url, query), proc.pid, args.seconds, args.connections, work, subgraphs)
            if recorder:
                recorder.wait()
            return result

        for n in range(args.rounds):
            # Every other round in the opposite order, so no router always runs first.
            order = list(routers) if n % 2 == 0 else list(reversed(routers))
            suffix = f" (round {n + 1})" if args.rounds > 1 else ""
            for name in order:
                result = measure(name, QUERY, args.perf, n)
                rounds[name].append({"query": result})
                print(row(f"{name}: benchmark query{suffix}", result))
            direct = load(accounts, SIMPLE, direct_answer, None, args.seconds, args.connections, work, subgraphs)
            directs.append(direct)
            print(row(f"one-subgraph query straight to accounts{suffix}", direct))
            for name in order:
                through = measure(name, SIMPLE, args.perf_simple, n)
                rounds[name][-1]["simple"] = through
                rounds[name][-1]["ratio"] = through["rps"] / direct["rps"]
                print(row(f"{name}: the same query through the router{suffix}", through))
        results = {}
        for name in routers:
            results[name] = median_of([r["query"] for r in rounds[name]])
            results[f"{name} simple"] = median_of([r["simple"] for r in rounds[name]])
        if args.rounds > 1:
            print(f"\nMedians of {args.rounds} rounds (peak RSS: the highest; answers: all rounds)\n")
            print(TABLE_HEAD)
            for name in routers:
                print(row(f"{name}: benchmark query", results[name]))
            print(row("one-subgraph query straight to accounts", median_of(directs)))
            for name in routers:
                print(row(f"{name}: the same query through the router", results[f"{name} simple"]))
        print()
        for name in routers:
            print(f"{name}: one-subgraph ratio (router / direct) = {median(r['ratio'] for r in rounds[name]):.2f}")
        if "Hive Router" in routers:
            per_round = [o["query"]["rps"] / h["query"]["rps"] for o, h in zip(rounds["Tessera"], rounds["Hive Router"])]
            listed = f" (rounds: {', '.join(f'{x:.2f}' for x in per_round)})" if args.rounds > 1 else ""
            print(f"Tessera / Hive Router, benchmark query RPS = {median(per_round):.2f}{listed}")
        return 0
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
