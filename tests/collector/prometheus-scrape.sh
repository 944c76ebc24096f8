#!/usr/bin/env bash
# A real Prometheus (Debian's 2.42) scrapes memgauge-collector's /metrics
# every second while a bounded loop posts batches; the test then asks
# Prometheus' HTTP API (/api/v1/query) for the counters and checks them
# against what was sent. Both processes are stopped by their pids and the
# temp directory removed, also on failure.
# Usage: tests/collector/prometheus-scrape.sh BUILD_DIR   (BATCHES=300)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${1:-$ROOT/build/collector}/memgauge-collector"
PROMETHEUS="${PROMETHEUS:-/usr/bin/prometheus}"
BATCHES="${BATCHES:-300}"
KEY=prometheus-test-api-key
TOKEN=prometheus-test-read-token
T="$(mktemp -d /tmp/memgauge-prom-XXXXXX)"
CPID=""
PPID_PROM=""

cleanup() {
    [ -n "$PPID_PROM" ] && kill "$PPID_PROM" 2>/dev/null && wait "$PPID_PROM" 2>/dev/null
    [ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

fail() {
    echo "prometheus: FAIL: $*" >&2
    [ -f "$T/prometheus.log" ] && tail -n 20 "$T/prometheus.log" >&2
    exit 1
}

[ -x "$PROMETHEUS" ] || fail "$PROMETHEUS missing (apt-get install prometheus)"
[ -x "$BIN" ] || fail "$BIN missing (build the collector first)"

# wait_for SECONDS COMMAND...: polls every 0.2 s until COMMAND succeeds
wait_for() {
    local end=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$end" ] || return 1
        sleep 0.2
    done
}

"$BIN" --listen 127.0.0.1:0 --port-file "$T/port" --db "$T/memgauge.db" --api-key "$KEY" \
    --read-token "$TOKEN" --retention-days 0 --quiet 2>"$T/collector.log" &
CPID=$!
wait_for 10 test -s "$T/port" || fail "the collector did not start"
PORT="$(cat "$T/port")"

PROM_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cat >"$T/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: memgauge
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials: $TOKEN
    static_configs:
      - targets: ['127.0.0.1:$PORT']
YML
"$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$T/prometheus.log" 2>&1 &
PPID_PROM=$!

# query EXPR [TIME]: prints the first result's value ("" when none)
query() {
    curl -sf --get "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" \
        ${2:+--data-urlencode "time=$2"} |
        python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}
equals() { [ "$(query "$1")" = "$2" ]; }

wait_for 30 curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" || fail "Prometheus did not become ready"
# the first scrape saw the counters at 0: increase() then covers the whole load
wait_for 20 equals 'memgauge_collector_ingest_batches_total{job="memgauge",outcome="stored"}' 0 ||
    fail "no scrape of the collector: $(query 'up{job="memgauge"}')"

# the load: BATCHES batches (valid_example.json with its own batch id), one
# replay, two bodies that are not JSON
post() {
    curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" \
        -H 'Content-Type: application/json' --data-binary @- "http://127.0.0.1:$PORT/v1/reports"
}
EXAMPLE="$(cat "$ROOT/tests/collector/corpus/valid_example.json")"
start=$SECONDS
for i in $(seq 1 "$BATCHES"); do
    id="$(printf '00000000-0000-4000-8000-%012d' "$i")"
    code="$(post <<<"${EXAMPLE/6f1c2a4e-8d3b-4c1e-9a7f-2b5d8e0c1f34/$id}")"
    [ "$code" = 200 ] || fail "batch $i answered $code"
done
[ "$(post <<<"${EXAMPLE/6f1c2a4e-8d3b-4c1e-9a7f-2b5d8e0c1f34/00000000-0000-4000-8000-000000000001}")" = 200 ] ||
    fail "the replay was not answered 200"
for _ in 1 2; do [ "$(post <<<'{"schema":1,')" = 400 ] || fail "a truncated body was not 400"; done
echo "prometheus: posted $BATCHES batches + 1 replay + 2 bad bodies in $((SECONDS - start)) s"

stored='memgauge_collector_ingest_batches_total{job="memgauge",outcome="stored"}'
wait_for 20 equals "$stored" "$BATCHES" || fail "stored counter is $(query "$stored"), sent $BATCHES"
equals 'memgauge_collector_ingest_samples_stored_total' "$((BATCHES * 10))" ||
    fail "samples stored $(query memgauge_collector_ingest_samples_stored_total), sent $((BATCHES * 10))"
equals 'memgauge_collector_ingest_batches_total{outcome="duplicate"}' 1 || fail "duplicates not 1"
equals 'memgauge_collector_ingest_batches_total{outcome="invalid",reason="json"}' 2 ||
    fail "invalid json not 2: $(query 'memgauge_collector_ingest_batches_total{outcome="invalid",reason="json"}')"
# counted once the answer is out, just after the batch's own counters: wait
wait_for 10 equals 'memgauge_collector_http_requests_total{endpoint="reports",status="200"}' "$((BATCHES + 1))" ||
    fail "reports answered 200: $(query 'memgauge_collector_http_requests_total{endpoint="reports",status="200"}')"
# both at one evaluation time: a scrape between two queries changes the count
at="$(date +%s.%N)"
increase="$(query "increase(${stored}[5m])" "$at")"
scrapes="$(query "count_over_time(${stored}[5m])" "$at")"
# increase() extrapolates past the last sample by up to 1.1 average scrape
# intervals (the start is pinned at the counter's 0): at least what was
# sent, at most N * (1 + 1.1 / (scrapes - 1)); the exact check is on the
# counter above
python3 -c "import sys; v=float('$increase'); k=int('$scrapes'); sys.exit(0 if k > 1 and $BATCHES <= v + 0.5 and v <= $BATCHES * (1 + 1.1 / (k - 1)) + 0.5 else 1)" ||
    fail "increase(stored[5m]) = $increase over $scrapes scrapes, sent $BATCHES"
p99="$(query 'histogram_quantile(0.99, sum by (le) (memgauge_collector_http_request_duration_seconds_bucket{endpoint="reports"}))')"
store_p99="$(query 'histogram_quantile(0.99, sum by (le) (memgauge_collector_store_write_duration_seconds_bucket))')"
python3 -c "import sys; sys.exit(0 if 0 < float('$p99') < 10 else 1)" || fail "latency p99 $p99"
echo "prometheus: stored_total = $BATCHES, samples = $((BATCHES * 10)), increase(stored[5m]) = $increase over $scrapes scrapes, request p99 ${p99} s, store write p99 ${store_p99} s"
