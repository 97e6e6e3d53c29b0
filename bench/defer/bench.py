#!/usr/bin/env python3
"""How late the parts of an incremental (`@defer`) answer arrive after the first one.

    bench/defer/bench.py [--requests N] [--router BIN]

Serves the federation scenario `tests/federation/defer` (the data-driven fixture subgraph,
release build), starts the router on it, and sends one deferred query N times over one
kept-alive HTTP connection, then N times on a new connection each. For each answer it prints
the time from the first part to the last: the deferred fetch on loopback takes a millisecond or
two, so anything near 40 ms is a write held back by Nagle's algorithm until the client's
delayed acknowledgement (see `no_delay` in subgraphs/kit/src/server.rs). Figures only.
"""

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/tessera-target"))
SCENARIO = os.path.join(ROOT, "tests", "federation", "defer")
QUERY = open(os.path.join(SCENARIO, "queries", "entity-field-deferred-with-a-label.graphql")).read()
PORT = 4613


def gap_ms(connection):
    """Sends the query on `connection`; milliseconds from the first part read to the last."""
    connection.request("POST", "/graphql", json.dumps({"query": QUERY}),
                       {"content-type": "application/json", "accept": "multipart/mixed;deferSpec=20220824"})
    response = connection.getresponse()
    if response.status != 200:
        raise SystemExit(f"the router answered {response.status}: {response.read()[:300]!r}")
    seen = []
    while True:
        chunk = response.read1(65536)
        if not chunk:
            break
        seen.append(time.perf_counter())
    return (seen[-1] - seen[0]) * 1000 if len(seen) > 1 else 0.0


def summary(gaps):
    return f"p50 {statistics.median(gaps):5.1f} ms   max {max(gaps):5.1f} ms   ({len(gaps)} answers)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--router", default=os.path.join(TARGET, "release", "tessera"))
    parser.add_argument("--no-build", action="store_true")
    args = parser.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "tessera", "-p", "tessera", "--bin", "serve-scenario", "-p", "tessera-testkit"],
                       cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": TARGET})
    work = tempfile.mkdtemp(prefix="tessera-defer-")
    supergraph = os.path.join(work, "supergraph.graphql")
    procs = [subprocess.Popen([os.path.join(TARGET, "release", "serve-scenario"), SCENARIO, supergraph],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        for _ in range(100):
            if os.path.exists(supergraph):
                break
            time.sleep(0.1)
        env = {**os.environ, "TESSERA_ROUTER__LISTEN": f"127.0.0.1:{PORT}", "TESSERA_DATA_DIR": os.path.join(work, "data"), "RUST_LOG": "warn",
               "TESSERA_ROUTER__RATE_LIMIT__PER_IP__CAPACITY": "1", "TESSERA_ROUTER__RATE_LIMIT__PER_IP__PER_SECOND": "0"}
        procs.append(subprocess.Popen([args.router, "serve", "router", "--supergraph", supergraph], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/health")
                break
            except OSError:
                time.sleep(0.1)
        kept = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        on_one = [gap_ms(kept) for _ in range(args.requests)]
        fresh = []
        for _ in range(args.requests):
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            fresh.append(gap_ms(connection))
            connection.close()
        print(f"@defer, first part to last, {args.requests} answers each")
        print(f"  one kept-alive connection:  {summary(on_one)}")
        print(f"  a new connection each:      {summary(fresh)}")
        return 0
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    raise SystemExit(main())
