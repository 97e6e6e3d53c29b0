#!/usr/bin/env python3
"""The split deployment, run for real: one `tessera serve` process per component, each with the
environment docker-compose.yml gives its container (read from `docker-compose config`, with the
container hostnames pointed at 127.0.0.1), on PostgreSQL with a database and a role per
subgraph (deploy/postgres/init-databases.sh) and Redis. Two routers and two notifications
replicas. Then tests/clients/split.mjs drives the journey, which kills one notifications replica
with SIGKILL under load.

    split.py --tessera BIN --pg-port 55432 --redis-url redis://127.0.0.1:56379/ --work DIR

Every process this starts is stopped at the end; only the replica the journey is told about is
killed, by its pid.
"""

import argparse
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Where each process listens here. Two routers, two notifications replicas.
PORTS = {
    "router-a": 4300,
    "router-b": 4310,
    "auth": 4301,
    "users": 4302,
    "products": 4303,
    "orders": 4304,
    "notifications-a": 4305,
    "notifications-b": 4315,
}
COMPOSE_PORTS = {"auth": 4001, "users": 4002, "products": 4003, "orders": 4004, "notifications": 4005}


def compose_environment():
    """Each service's environment as docker-compose.yml resolves it, secrets from .env.example."""
    work = tempfile.mkdtemp(prefix="tessera-compose-")
    shutil.copy(os.path.join(ROOT, ".env.example"), os.path.join(work, ".env"))
    out = subprocess.run(
        ["docker-compose", "--env-file", os.path.join(work, ".env"), "-f", os.path.join(ROOT, "docker-compose.yml"), "config"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    import yaml  # PyYAML: docker-compose itself depends on it

    services = yaml.safe_load(out)["services"]
    return {name: dict(services[name].get("environment") or {}) for name in ["router", *COMPOSE_PORTS]}


def localize(env, pg_port, redis_url, namespace, data_dir):
    """Points compose's hostnames at this machine: the same settings, other addresses."""
    out = {}
    for key, value in env.items():
        value = str(value)
        if key == "REDIS_URL":
            value = redis_url  # the CI server has no password
        elif key == "DATABASE_URL":
            value = re.sub(r"@postgres:5432/", f"@127.0.0.1:{pg_port}/", value)
        elif key == "SMTP_URL":
            continue  # no Mailpit here: the mail goes to the .eml sink of the data directory
        else:
            for name, port in COMPOSE_PORTS.items():
                replica = "notifications-a" if name == "notifications" else name
                value = value.replace(f"http://{name}:{port}", f"http://127.0.0.1:{PORTS[replica]}")
            value = value.replace("172.28.0.0/16", "127.0.0.0/8")
        out[key] = value
    out["TESSERA_REDIS_NAMESPACE"] = namespace
    out["TESSERA_DATA_DIR"] = data_dir
    out["TESSERA_ROUTER__SUPERGRAPH_PATH"] = os.path.join(ROOT, "schema", "supergraph.graphql")
    return out


class Collector(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP (JSON) trace receiver on 127.0.0.1: keeps every span it is sent."""

    spans = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            for resource in json.loads(body).get("resourceSpans", []):
                attributes = {a["key"]: a["value"].get("stringValue") for a in resource.get("resource", {}).get("attributes", [])}
                for scope in resource.get("scopeSpans", []):
                    for span in scope.get("spans", []):
                        Collector.spans.append(
                            {"service": attributes.get("service.name"), "trace": span.get("traceId"), "name": span.get("name")}
                        )
        except (ValueError, KeyError):
            pass
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def one_trace_across(spans, wanted):
    """A trace id whose spans include every (service, span name) in `wanted` (name None: any)."""
    by_trace = {}
    for s in spans:
        by_trace.setdefault(s["trace"], []).append(s)
    for trace, members in by_trace.items():
        if all(any(m["service"] == svc and (name is None or m["name"] == name) for m in members) for svc, name in wanted):
            return trace, members
    return None, []


def wait_healthy(port, proc, log, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}:\n{open(log).read()[-4000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as res:
                if res.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"no /health on {port} after {seconds} s:\n{open(log).read()[-4000:]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tessera", required=True)
    parser.add_argument("--pg-port", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    compose = compose_environment()
    env_example = dict(
        line.split("=", 1) for line in open(os.path.join(ROOT, ".env.example")).read().splitlines() if re.match(r"^[A-Z_]+=", line)
    )

    print("postgres: a database and a role per subgraph (deploy/postgres/init-databases.sh)")
    pg = {**os.environ, "PGHOST": "127.0.0.1", "PGPORT": str(args.pg_port), "POSTGRES_USER": "postgres"}
    pg.update({k: v for k, v in env_example.items() if k.endswith("_DB_PASSWORD")})
    subprocess.run(["bash", os.path.join(ROOT, "deploy", "postgres", "init-databases.sh")], env=pg, check=True)
    # The privilege, not the convention: a subgraph's role cannot even connect to another's database.
    refused = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(args.pg_port), "-U", "users", "-d", "auth", "-c", "SELECT 1"],
        env={**os.environ, "PGPASSWORD": env_example["USERS_DB_PASSWORD"]},
        capture_output=True,
        text=True,
    )
    if refused.returncode == 0 or "permission denied" not in refused.stderr:
        print(f"the users role reached the auth database: {refused.stdout}{refused.stderr}")
        return 1
    print(f"  users → auth database: {refused.stderr.strip().splitlines()[-1]}")

    namespace = f"split-{int(time.time())}"
    procs = {}
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    import threading

    threading.Thread(target=collector.serve_forever, daemon=True).start()
    otlp = f"http://127.0.0.1:{collector.server_address[1]}"

    def start(name, component, extra=None):
        base = compose["notifications" if component == "notifications" else component]
        data = os.path.join(args.work, "data-notifications" if component == "notifications" else f"data-{name}")
        env = localize(base, args.pg_port, args.redis_url, namespace, data)
        listen_key = "TESSERA_ROUTER__LISTEN" if component == "router" else f"TESSERA_{component.upper()}__LISTEN"
        env[listen_key] = f"127.0.0.1:{PORTS[name]}"
        env.update(extra or {})
        # Traces go to the receiver above, as JSON so it needs no protobuf.
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp
        env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/json"
        env["PATH"] = os.environ["PATH"]
        log = os.path.join(args.work, f"{name}.log")
        proc = subprocess.Popen([args.tessera, "serve", component], env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT)
        procs[name] = (proc, log)
        wait_healthy(PORTS[name], proc, log)
        print(f"  {name}: tessera serve {component} on 127.0.0.1:{PORTS[name]} (pid {proc.pid})")

    status = 1
    try:
        print("starting one process per component, auth first (everyone verifies against its JWKS)")
        for name in ["auth", "users", "products", "orders"]:
            start(name, name)
        start("notifications-a", "notifications")
        start("notifications-b", "notifications")
        # Both routers spread notifications calls over both replicas, and share per-user budgets
        # through Redis: small ones here, so the journey can show they are shared.
        router_extra = {
            "TESSERA_ROUTER__TRAFFIC__REPLICAS__NOTIFICATIONS": json.dumps([f"http://127.0.0.1:{PORTS['notifications-b']}/"]),
            "TESSERA_ROUTER__RATE_LIMIT__PER_USER__CAPACITY": "60",
            "TESSERA_ROUTER__RATE_LIMIT__PER_USER__PER_SECOND": "0.5",
        }
        start("router-a", "router", router_extra)
        start("router-b", "router", router_extra)

        # The first admin, as an operator makes one: `tessera admin create` with auth's settings.
        auth_env = localize(compose["auth"], args.pg_port, args.redis_url, namespace, os.path.join(args.work, "data-admin"))
        made = subprocess.run(
            [args.tessera, "admin", "create", "--email", "ops@example.com"],
            env={**auth_env, "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            check=True,
        )
        admin_password = re.search(r"One-time password[^:]*: (\S+)", made.stdout).group(1)

        journey = subprocess.run(
            [
                "node",
                os.path.join(ROOT, "tests", "clients", "split.mjs"),
                f"http://127.0.0.1:{PORTS['router-a']}/graphql",
                f"http://127.0.0.1:{PORTS['router-b']}/graphql",
                os.path.join(args.work, "data-notifications", "mail"),
                str(procs["notifications-a"][0].pid),
            ],
            env={**os.environ, "SPLIT_ADMIN": f"ops@example.com:{admin_password}"},
            cwd=os.path.join(ROOT, "tests", "clients"),
        )
        status = journey.returncode
    except RuntimeError as e:
        print(f"start-up failed: {e}")
    finally:
        for name, (proc, log) in procs.items():
            if proc.poll() is None:
                proc.terminate()
        for name, (proc, log) in procs.items():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        collector.shutdown()
    if status == 0:
        # Each process flushed its spans as it stopped. A sign-up is one trace from the router
        # into auth, and on through auth's outbox and the bus into the notifications consumer.
        wanted = [("tessera-router", None), ("tessera-auth", "request"), ("tessera-notifications", "consume")]
        trace, members = one_trace_across(Collector.spans, wanted)
        services = sorted({s["service"] for s in Collector.spans})
        print(f"traces: {len(Collector.spans)} spans received from {services}")
        if trace is None:
            print(f"not ok - no single trace holds spans of {wanted}")
            status = 1
        else:
            names = sorted({f"{m['service']}:{m['name']}" for m in members})
            print(f"ok - trace {trace} runs from the router into auth and on into the notifications consumer: {names}")
        if status != 0:
            for name, (_, log) in procs.items():
                print(f"--- {name} (last lines) ---\n{open(log).read()[-2500:]}")
    return status


if __name__ == "__main__":
    sys.exit(main())
