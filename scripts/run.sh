#!/usr/bin/env bash
# The main job: installs what is missing, builds everything, starts
# memgauge-collector on 127.0.0.1 with SQLite under ./data, prints the
# dashboard's address, and runs the sample app through a mixed set of
# sessions that report to it: steady, leak, spike, sawtooth, and one session
# the kernel kills for memory in a limited cgroup, whose next launch says so.
# The collector keeps serving the dashboard until Ctrl-C.
#
# Usage: scripts/run.sh [--port N] [--data DIR] [--quick] [--exit-when-done]
#   --quick            shorter sessions (about 30 s in all)
#   --exit-when-done   stop the collector once the sessions are in (for tests)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT=8080
DATA="$ROOT/data"
QUICK=0
EXIT_WHEN_DONE=0
APP_ID=com.example.memgauge-sample

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
while [ "$#" -gt 0 ]; do
    case "$1" in
    --port) [ "$#" -ge 2 ] || usage; PORT="$2"; shift 2 ;;
    --data) [ "$#" -ge 2 ] || usage; DATA="$2"; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --exit-when-done) EXIT_WHEN_DONE=1; shift ;;
    -h | --help) usage ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage ;;
    esac
done
case "$PORT" in '' | *[!0-9]*) echo "run.sh: --port needs a number, got '$PORT'" >&2; exit 2 ;; esac
mkdir -p "$DATA"
DATA="$(cd "$DATA" && pwd)"

say() { printf '[main job] %s\n' "$*"; }

# ---- set-up ------------------------------------------------------------------
scripts/deps.sh
if [ ! -f collector/dashboard/node_modules/uplot/package.json ]; then
    say "installing the dashboard's chart library (npm ci)"
    npm ci --prefix collector/dashboard --no-audit --no-fund --loglevel=error >/dev/null
fi
say "building (build/run)"
cmake -S . -B build/run -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMGAUGE_BUILD_TESTS=OFF \
    -DMEMGAUGE_BUILD_BENCH=OFF -DMEMGAUGE_COLLECTOR_TESTS=OFF -DMEMGAUGE_COLLECTOR_BENCH=OFF \
    >"$DATA/build.log" 2>&1 || { tail -n 30 "$DATA/build.log"; exit 1; }
cmake --build build/run -j "$(nproc)" >>"$DATA/build.log" 2>&1 || { tail -n 30 "$DATA/build.log"; exit 1; }
APP="$ROOT/build/run/sample-app/memgauge-sample"
COLLECTOR="$ROOT/build/run/memgauge-collector"

# Keys live with the data, so that the dashboard link stays the same across runs.
secret() {
    local file="$DATA/$1"
    [ -s "$file" ] || (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$file")
    cat "$file"
}
API_KEY="$(secret api-key)"
READ_TOKEN="$(secret read-token)"
mkdir -p "$DATA/logs" "$DATA/state"

# ---- the collector -----------------------------------------------------------
COLLECTOR_PID=""
CGROUP=""
cleanup() {
    trap - INT TERM EXIT
    if [ -n "$COLLECTOR_PID" ] && kill -0 "$COLLECTOR_PID" 2>/dev/null; then
        say "stopping the collector"
        kill -TERM "$COLLECTOR_PID" 2>/dev/null || true
        wait "$COLLECTOR_PID" 2>/dev/null || true
    fi
    [ -n "$CGROUP" ] && rmdir "$CGROUP" 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo; cleanup; exit 0' INT TERM

rm -f "$DATA/port"
"$COLLECTOR" --listen "127.0.0.1:$PORT" --db "$DATA/memgauge.db" --api-key "$API_KEY" \
    --read-token "$READ_TOKEN" --log "$DATA/logs/collector.log" --port-file "$DATA/port" &
COLLECTOR_PID=$!
for _ in $(seq 1 100); do
    [ -s "$DATA/port" ] && break
    kill -0 "$COLLECTOR_PID" 2>/dev/null || { tail -n 5 "$DATA/logs/collector.log"; exit 1; }
    sleep 0.1
done
[ -s "$DATA/port" ] || { echo "run.sh: the collector did not start" >&2; exit 1; }
PORT="$(cat "$DATA/port")"
URL="http://127.0.0.1:$PORT"
say "collector on $URL (SQLite: $DATA/memgauge.db)"
say "dashboard: $URL/#token=$READ_TOKEN"

# ---- the sessions ------------------------------------------------------------
# run_session NAME VERSION SECONDS SCENARIO [extra sample-app options]
run_session() {
    local name="$1" version="$2" seconds="$3" scenario="$4"
    shift 4
    "$APP" --scenario "$scenario" --duration "$seconds" --interval-ms 200 \
        --collector "$URL" --api-key "$API_KEY" --app-id "$APP_ID" --app-version "$version" \
        --state-dir "$DATA/state/$name" "$@" >"$DATA/logs/$name.log" 2>&1
}

summary() {
    grep '^final ' "$DATA/logs/$1.log" | tail -n 1 |
        sed -E 's/.* max_bytes=([0-9]+) peak_bytes=([0-9]+).*/max sample \1 bytes, peak \2 bytes/'
}

long=20
[ "$QUICK" -eq 1 ] && long=6
sessions=0
for spec in "steady 1.0.0 steady" "leak 1.1.0 leak" "spike 1.2.0 spike" "sawtooth 1.2.0 sawtooth"; do
    set -- $spec
    say "session '$1' (version $2, $long s)"
    run_session "$1" "$2" "$long" "$3"
    sessions=$((sessions + 1))
    say "  done: $(summary "$1")"
done

# One session killed by the kernel for memory: a memory cgroup with a
# 256 MiB limit and a leak that crosses it. The next launch reads its record
# and reports a suspected out-of-memory kill.
OOM_LIMIT=$((256 * 1024 * 1024))
# Makes $CGROUP, a memory cgroup with OOM_LIMIT and no swap (scripts/cgroup.sh:
# v1, else v2 with this shell moved into a leaf). Sets CG_WHY when it cannot.
make_oom_cgroup() {
    local err
    err="$(mktemp)"
    if CGROUP="$("$ROOT/scripts/cgroup.sh" make "memgauge-run-$$" "$OOM_LIMIT" $$ 2>"$err")"; then
        rm -f "$err"
        return 0
    fi
    CG_WHY="$(cat "$err")"
    rm -f "$err"
    return 1
}
if make_oom_cgroup; then
    say "session 'oom' (version 1.3.0): leaking 64 MiB/s in a 256 MiB memory cgroup"
    set +e
    # the inner shell reports the kill into the log, not onto the terminal
    bash -c '"$@"; exit $?' run.sh sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' \
        sh "$CGROUP" \
        "$APP" --scenario leak --leak-mb-per-s 64 --duration 60 --interval-ms 200 \
        --collector "$URL" --api-key "$API_KEY" --app-id "$APP_ID" --app-version 1.3.0 \
        --state-dir "$DATA/state/oom" >"$DATA/logs/oom-killed.log" 2>&1
    status=$?
    set -e
    if [ "$status" -eq 137 ]; then
        say "  killed by the kernel (SIGKILL), as planned"
    else
        say "  exited with status $status instead of being killed"
    fi
    "$ROOT/scripts/cgroup.sh" remove "$CGROUP"
    CGROUP=""
    sessions=$((sessions + 1))
    say "session 'oom-next' (version 1.3.0): the next launch reads how the last one ended"
    run_session oom 1.3.0 3 steady
    mv "$DATA/logs/oom.log" "$DATA/logs/oom-next.log"
    sessions=$((sessions + 1))
    say "  $(grep '^previous ' "$DATA/logs/oom-next.log" | cut -d' ' -f2-4)"
else
    say "no memory cgroup here ($CG_WHY): the out-of-memory session is skipped"
fi

say "all $sessions sessions reported; dashboard: $URL/#token=$READ_TOKEN"
if [ "$EXIT_WHEN_DONE" -eq 1 ]; then
    exit 0
fi
say "the collector keeps serving the dashboard; Ctrl-C stops it"
wait "$COLLECTOR_PID"
