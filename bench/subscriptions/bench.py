#!/usr/bin/env python3
"""Subscription fan-out through the router: N websocket clients of one user, all subscribed to
`notificationAdded`, and one `sendNotification`.

    bench/subscriptions/bench.py                    # 1,000 and 10,000 clients (release build)
    bench/subscriptions/bench.py --clients 100 2000 --profile profiling --no-build

It starts `tessera dev` (the whole stack on SQLite and the in-process bus) in a temporary data
directory, makes an admin with `tessera admin create` and signs in, then runs
`tests/testkit`'s `sub-fanout` for each client count. It prints the delivery latency
percentiles (sending the mutation → each client's event), the stack's RSS growth per client,
and the router's upstream subscriptions. Figures only: nothing here passes or fails on a time.

With `--router-alone` the clients go through a second router, started on its own beside the
stack (`tessera serve router`), and only that process's RSS counts: the router's own cost per
client, without the subgraphs'. With `--per-client` every client has its own upstream
subscription (feeds not shared), all on the one caller's upstream connection. With `--callers
K` the clients sign in with K different access tokens of the user (one sign-in and its
refreshes), so the router sees K callers, each with a connection of its own to the subgraph:
`--callers N` with N clients is N different people subscribed at once.
"""

import argparse
import json
import os
import re
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
PORT = 4800


def post(url, query, variables=None, token=None):
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps({"query": query, "variables": variables or {}}).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=30) as res:
        return json.loads(res.read())


def answers(router, proc, log):
    """Waits until `router` answers GraphQL; False (with the end of its log) if `proc` died."""
    for _ in range(300):
        try:
            post(f"{router}/graphql", "{ __typename }")
            return True
        except OSError:
            if proc.poll() is not None:
                print(open(log).read()[-3000:])
                return False
            time.sleep(0.2)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--profile", default="release")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--idle", action="store_true", help="clients only connect: the memory of an idle connection")
    parser.add_argument("--callers", type=int, default=1,
                        help="sign the clients in as this many callers (access tokens of the user from one sign-in and its refreshes): each caller has its own upstream connection")
    parser.add_argument("--router-alone", action="store_true",
                        help="subscribe through a second router in a process of its own (`tessera serve router`, beside the stack) and count only its RSS")
    parser.add_argument("--per-client", action="store_true",
                        help="no shared feeds (router.traffic.inbound_dedup=off): one upstream subscription per client")
    args = parser.parse_args()
    bins = os.path.join(TARGET, args.profile)
    if not args.no_build:
        subprocess.run(["cargo", "build", "--profile", args.profile, "--quiet", "--bin", "tessera", "-p", "tessera", "--bin", "sub-fanout", "-p", "tessera-testkit"],
                       cwd=ROOT, check=True, env={**os.environ, "CARGO_TARGET_DIR": TARGET})
    work = tempfile.mkdtemp(prefix="tessera-subs-")
    env = {
        **os.environ,
        "TESSERA_DATA_DIR": work,
        "RUST_LOG": "warn",
        # Its own ports, clear of a `cargo run` on the defaults.
        "TESSERA_ROUTER__LISTEN": f"127.0.0.1:{PORT}",
        **{f"TESSERA_{n.upper()}__LISTEN": f"127.0.0.1:{PORT + i + 1}" for i, n in enumerate(["auth", "users", "products", "orders", "notifications"])},
        # One client machine opens every connection: no per-IP or per-user budget.
        "TESSERA_ROUTER__RATE_LIMIT__PER_IP__CAPACITY": "1", "TESSERA_ROUTER__RATE_LIMIT__PER_IP__PER_SECOND": "0",
        "TESSERA_ROUTER__RATE_LIMIT__PER_USER__CAPACITY": "1", "TESSERA_ROUTER__RATE_LIMIT__PER_USER__PER_SECOND": "0",
        **({"TESSERA_ROUTER__TRAFFIC__INBOUND_DEDUP": "off"} if args.per_client else {}),
    }
    stack = subprocess.Popen([os.path.join(bins, "tessera"), "dev"], env=env, cwd=ROOT,
                             stdout=open(os.path.join(work, "stack.log"), "w"), stderr=subprocess.STDOUT)
    router = f"http://127.0.0.1:{PORT}"
    measured = stack  # the process whose RSS counts
    try:
        if not answers(router, stack, os.path.join(work, "stack.log")):
            return 1
        out = subprocess.run([os.path.join(bins, "tessera"), "admin", "create", "--email", "fanout@example.com"],
                             env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        password = re.search(r"One-time password[^:]*: (\S+)", out).group(1)
        login = post(f"{router}/graphql", "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }",
                     {"i": {"identifier": "fanout@example.com", "password": password}})
        token = login["data"]["login"]["accessToken"]
        tokens, refresh = [token], login["data"]["login"]["refreshToken"]
        while len(tokens) < args.callers:
            # Each refresh hands out a new access token: another caller to the router.
            out = post(f"{router}/graphql", "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken } }",
                       {"i": {"refreshToken": refresh}})["data"]["refreshToken"]
            tokens.append(out["accessToken"])
            refresh = out["refreshToken"]
        token_arg = token
        if args.callers > 1:
            token_arg = "@" + os.path.join(work, "tokens.txt")
            open(token_arg[1:], "w").write("\n".join(tokens))
        user = post(f"{router}/graphql", "{ me { id } }", token=token)["data"]["me"]["id"]
        if args.router_alone:
            alone_env = {**env, "TESSERA_ROUTER__LISTEN": f"127.0.0.1:{PORT + 10}"}
            measured = subprocess.Popen([os.path.join(bins, "tessera"), "serve", "router"], env=alone_env, cwd=ROOT,
                                        stdout=open(os.path.join(work, "router.log"), "w"), stderr=subprocess.STDOUT)
            router = f"http://127.0.0.1:{PORT + 10}"
            if not answers(router, measured, os.path.join(work, "router.log")):
                return 1
        mode = "one upstream subscription per client" if args.per_client else "shared feeds"
        whose = ", the router's own RSS (a process of its own)" if args.router_alone else ""
        callers = f"{args.callers} callers (access tokens) of one user" if args.callers > 1 else "one user"
        print(f"tessera dev ({args.profile} build, {mode}{whose}), {callers}, this machine ({os.cpu_count()} cores)\n")
        print("| clients | received | latency p50 / p95 / p99 / max ms | RSS growth per client KB | upstream subscriptions | upstream connections |")
        print("|---|---|---|---|---|---|")
        failed = False
        for n in args.clients:
            run = subprocess.run([os.path.join(bins, "sub-fanout"), router, token_arg, user, str(n), str(measured.pid)],
                                 capture_output=True, text=True, timeout=600, env={**os.environ, "FANOUT_IDLE": "1" if args.idle else "0"})
            m = re.search(r"RESULT (.*)", run.stdout)
            if not m:
                print(run.stdout[-2000:], run.stderr[-2000:])
                return 1
            r = json.loads(m.group(1))
            failed |= run.returncode != 0
            if args.idle:
                print(f"| {n} idle connections | {r['connected']} connected | - | {r['rss_per_client_kb']:.1f} | - | - |")
                time.sleep(2)
                continue
            lat = " / ".join(f"{r[k]:.0f}" if r[k] is not None else "-" for k in ["p50_ms", "p95_ms", "p99_ms", "max_ms"])
            print(f"| {n} | {r['received']} | {lat} | {r['rss_per_client_kb']:.1f} | {r['upstream_subscriptions']} | {r.get('upstream_connections', '-')} |")
            # Let the previous run's sockets close before the next.
            time.sleep(2)
        return 1 if failed else 0
    finally:
        if measured is not stack:
            measured.send_signal(signal.SIGINT)
            try:
                measured.wait(timeout=15)
            except subprocess.TimeoutExpired:
                measured.kill()
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(timeout=15)
        except subprocess.TimeoutExpired:
            stack.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
