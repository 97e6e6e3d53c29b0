#!/usr/bin/env python3
"""Checks the Grafana dashboard against a live Tessera: a real Prometheus scrapes every
component, loads the alert rules, and each panel query must return at least one series. A metric
that is not exported (renamed, misspelled, never registered) fails the check.

    check-dashboard.py --targets router=127.0.0.1:4000,auth=127.0.0.1:4001,... [--prometheus BIN]

Run it against a stack that has served some traffic (`.ci/run` does, after the client suites):
series such as errors by code exist only once an error has been counted.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(base, expr):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=10) as res:
        body = json.load(res)
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    return body["data"]["result"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", required=True, help="component=host:port,... to scrape")
    parser.add_argument("--prometheus", default="prometheus")
    parser.add_argument("--dashboard", default=os.path.join(HERE, "dashboards", "tessera.json"))
    parser.add_argument("--rules", default=os.path.join(HERE, "alerts.yml"))
    parser.add_argument("--seconds", type=int, default=60, help="how long to wait for every target")
    args = parser.parse_args()

    targets = [t.split("=", 1) for t in args.targets.split(",")]
    work = tempfile.mkdtemp(prefix="tessera-prometheus-")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [os.path.abspath(args.rules)],
        "scrape_configs": [
            {
                "job_name": "tessera",
                "static_configs": [{"targets": [addr], "labels": {"component": name}} for name, addr in targets],
            }
        ],
    }
    # JSON is YAML: no YAML library needed.
    with open(os.path.join(work, "prometheus.yml"), "w") as f:
        json.dump(config, f)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "prometheus.log"), "w")
    prometheus = subprocess.Popen(
        [
            args.prometheus,
            f"--config.file={os.path.join(work, 'prometheus.yml')}",
            f"--storage.tsdb.path={os.path.join(work, 'data')}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    failures = []
    try:
        deadline = time.time() + args.seconds
        up = []
        while time.time() < deadline:
            try:
                up = query(base, 'up{job="tessera"}')
                if len(up) == len(targets) and all(r["value"][1] == "1" for r in up):
                    break
            except (OSError, RuntimeError):
                pass
            time.sleep(0.5)
        else:
            down = [r["metric"].get("component") for r in up if r["value"][1] != "1"]
            print(f"not every target is up after {args.seconds} s: {down or up}")
            print(open(os.path.join(work, "prometheus.log")).read()[-3000:])
            return 1
        # A few scrapes, so that rates over a window have two samples at least.
        time.sleep(5)

        with urllib.request.urlopen(f"{base}/api/v1/rules", timeout=10) as res:
            groups = json.load(res)["data"]["groups"]
        rules = [r for g in groups for r in g["rules"]]
        bad = [r["name"] for r in rules if r.get("health") != "ok"]
        print(f"alert rules loaded: {len(rules)}, unhealthy: {bad or 'none'}")
        if not rules or bad:
            failures.append("alert rules")

        with open(args.dashboard) as f:
            dashboard = json.load(f)
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                try:
                    result = query(base, expr)
                except (OSError, RuntimeError) as e:
                    result, error = [], str(e)
                else:
                    error = ""
                mark = "ok" if result else "EMPTY"
                print(f"{mark:5} {len(result):3} series  {panel['title']}  [{target['refId']}] {error}")
                if not result:
                    failures.append(f"{panel['title']}: {expr}")
    finally:
        prometheus.send_signal(signal.SIGTERM)
        try:
            prometheus.wait(timeout=10)
        except subprocess.TimeoutExpired:
            prometheus.kill()
    if failures:
        print("panels or rules without data:\n  " + "\n  ".join(failures))
        return 1
    print("every panel query returns series")
    return 0


if __name__ == "__main__":
    sys.exit(main())
