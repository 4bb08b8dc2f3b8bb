#!/usr/bin/env bash
# Runs every test: installs what is missing, builds (debug), runs the Swift suites, then the
# Python compatibility suite (official openai and anthropic SDKs against the real binary).
# Fails when any test fails or when a suite ran no tests.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== build (debug, with tests)"
swift build --build-tests

mkdir -p .build
echo "== Redis (a server of the tests' own, on a free loopback port)"
redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --loglevel warning \
    >.build/redis-test.log 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$redis_port" ping >/dev/null || { echo "switchboard: redis-server did not start:" >&2; cat .build/redis-test.log >&2; exit 1; }
export SWITCHBOARD_TEST_REDIS_URL="redis://127.0.0.1:${redis_port}/0"
echo "redis-server on port $redis_port"

echo "== Swift tests"
# The rate-limit storm (1,000 calls in real time) runs alone afterwards, so its load cannot slow
# the other suites' loopback exchanges past their timeouts.
# A test that hangs fails the run in 20 minutes (naming what never finished), not at CI's limit.
run_swift_tests() {
    local log=$1
    shift
    set +e
    timeout --kill-after=30 1200 swift test --skip-build "$@" 2>&1 | tee "$log"
    local status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
        echo "switchboard: the Swift tests did not finish within 20 minutes; started but never ended:" >&2
        comm -23 <(grep " started" "$log" | grep -oE "Test [A-Za-z0-9_]+\(" | sort -u) \
            <(grep -E " (passed|failed) after" "$log" | grep -oE "Test [A-Za-z0-9_]+\(" | sort -u) >&2
    fi
    return "$status"
}
# The demo test (the real demo for 40 s: a simulator, a gateway and twenty users in one process)
# also runs alone, for the same reason.
run_swift_tests .build/swift-test.log --skip RateLimitStormTests --skip DemoCommandTests
swift_count=$(grep -oE "Test run with [0-9]+ tests" .build/swift-test.log | tail -1 | grep -oE "[0-9]+" || echo 0)
for alone in RateLimitStormTests DemoCommandTests; do
    echo "== Swift tests: $alone, alone"
    run_swift_tests ".build/swift-$alone.log" --filter "$alone"
    count=$(grep -oE "Test run with [0-9]+ tests" ".build/swift-$alone.log" | tail -1 | grep -oE "[0-9]+" || echo 0)
    if [ "$count" -eq 0 ]; then
        echo "switchboard: $alone ran no tests" >&2
        exit 1
    fi
    swift_count=$((swift_count + count))
done

echo "== Python compatibility suite (official SDKs)"
python=$(scripts/venv.sh)
SWITCHBOARD_BIN="$(swift build --show-bin-path)/switchboard" timeout --kill-after=30 1200 "$python" -m pytest Tests/compat -q 2>&1 | tee .build/pytest.log
python_count=$(grep -oE "[0-9]+ passed" .build/pytest.log | tail -1 | grep -oE "[0-9]+" || echo 0)

echo "== Reliability suite (kill -9, shared journal, fuzzed bodies, Redis lost, disk full)"
# Its own redis-server and gateways; the tests' Redis is not needed (stopped so it cannot be confused).
kill "$redis_pid" 2>/dev/null || true
set +e
timeout --kill-after=30 600 "$(swift build --show-bin-path)/switchboard" reliability 2>&1 | tee .build/reliability.log
set -e
reliability=$(grep -oE "^RELIABILITY: [0-9]+ of [0-9]+ checks held" .build/reliability.log | tail -1 || true)
held=$(echo "$reliability" | awk '{print $2}')
checks=$(echo "$reliability" | awk '{print $4}')

echo "TOTAL: swift ${swift_count} tests passed, python ${python_count} tests passed, reliability ${held:-0} of ${checks:-?} checks held"
if [ -z "$reliability" ] || [ "$held" != "$checks" ]; then
    echo "switchboard: the reliability suite did not hold" >&2
    exit 1
fi
if [ "$swift_count" -eq 0 ] || [ "$python_count" -eq 0 ]; then
    echo "switchboard: a suite ran no tests" >&2
    exit 1
fi
