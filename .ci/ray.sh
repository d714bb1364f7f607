#!/usr/bin/env bash
# A local Ray cluster for tests/test_scan_ray.py: a head and one worker node, one CPU each, no
# dashboard and no usage statistics (nothing phones home). `.ci/ray.sh start` prints the head's
# address; `.ci/ray.sh stop` stops every Ray process of this machine. Needs `.[ray]` in .venv.
set -euo pipefail
PORT="${UNMASK_RAY_PORT:-6390}"
RAY=.venv/bin/ray
export RAY_USAGE_STATS_ENABLED=0
case "${1:-}" in
start)
    # Small object stores: results are a few kB each; the default reserves 30 % of memory per node.
    "$RAY" start --head --port="$PORT" --num-cpus=1 --include-dashboard=false \
        --disable-usage-stats --object-store-memory=200000000 >&2
    "$RAY" start --address="127.0.0.1:$PORT" --num-cpus=1 --disable-usage-stats \
        --object-store-memory=200000000 >&2
    echo "127.0.0.1:$PORT"
    ;;
stop)
    "$RAY" stop >/dev/null 2>&1 || true  # it lists every process it stops
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 64
    ;;
esac
