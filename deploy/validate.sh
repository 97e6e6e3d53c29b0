#!/usr/bin/env bash
# Validates what operators deploy, with the real tools: the compose file (docker-compose config),
# the Kubernetes manifests of both overlays (kubectl kustomize, then kubernetes-validate against
# the Kubernetes schemas, strict: unknown fields fail), and the Prometheus alert rules (promtool
# check rules, and their unit tests). Exits non-zero on the first broken one.
#
#   deploy/validate.sh           # from the repository root; .ci/run calls it
#
# Needs docker-compose, kubectl, kubernetes-validate and promtool on PATH (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "compose: docker-compose config, every profile, secrets from .env.example"
cp .env.example "$tmp/.env"
docker-compose --env-file "$tmp/.env" -f docker-compose.yml --profile monitoring --profile otel config -q
services="$(docker-compose --env-file "$tmp/.env" -f docker-compose.yml --profile monitoring --profile otel config --services | sort | tr '\n' ' ')"
for want in auth grafana jaeger mailpit notifications orders postgres products prometheus redis router users; do
  case " $services" in *" $want "*) ;; *) echo "docker-compose.yml has no service $want (has: $services)"; exit 1 ;; esac
done
# Nothing secret is committed: without an .env, compose refuses to start.
if docker-compose --env-file /dev/null -f docker-compose.yml config -q 2>/dev/null; then
  echo "docker-compose.yml accepted an empty environment: a secret has a committed default"; exit 1
fi

echo "kubernetes: kustomize build of each overlay, validated strictly against the schemas"
cp -r deploy "$tmp/deploy"
for f in secrets shared-secrets; do
  cp "$tmp/deploy/k8s/overlays/prod/$f.env.example" "$tmp/deploy/k8s/overlays/prod/$f.env"
done
for overlay in dev prod; do
  kubectl kustomize "$tmp/deploy/k8s/overlays/$overlay" >"$tmp/$overlay.yaml"
  kubernetes-validate --strict --quiet "$tmp/$overlay.yaml"
  kinds="$(grep -c '^kind: ' "$tmp/$overlay.yaml")"
  for kind in Deployment Service HorizontalPodAutoscaler PodDisruptionBudget NetworkPolicy ConfigMap Secret; do
    grep -q "^kind: $kind$" "$tmp/$overlay.yaml" || { echo "$overlay has no $kind"; exit 1; }
  done
  echo "  $overlay: $kinds resources valid"
done

echo "prometheus: alert rules and their tests"
promtool check rules deploy/monitoring/alerts.yml
(cd deploy/monitoring && promtool test rules alerts.test.yml)
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"], "no panels"' deploy/monitoring/dashboards/tessera.json
echo "deploy: valid"
