#!/usr/bin/env bash
# CI: the production install starts. Build the wheel, install it into a fresh virtual
# environment WITHOUT the test extras (the extras once hid a missing dependency: kombu's Redis
# transport needs `packaging`, issue 13), then from outside the checkout: `docpost init` on a
# throw-away PostgreSQL schema, a real `docpost worker` on the real Redis under a key prefix of
# its own (so it cannot take other runs' messages), an order and its confirmation through the
# queue (both must succeed), and the confirmation's PDF rendered by that worker.
# Any failed step fails CI, loudly; everything made here is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
checkout="$(pwd)"

PG_URL="${DOCPOST_TEST_PG_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/test}"
REDIS_URL="${DOCPOST_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
TIMEOUT=120

log() { printf '\n== plain install: %s\n' "$*"; }
fail() {
  printf '\nPLAIN INSTALL FAILED: %s\n' "$*" >&2
  if [ -s "${work:-/nonexistent}/worker.log" ]; then
    echo "---- the worker's log (last 60 lines) ----" >&2
    tail -n 60 "$work/worker.log" >&2
  fi
  exit 1
}

work="$(mktemp -d)"
run_id="plain$(date +%s)$$"
schema="docpost_ci_${run_id}"
worker_pid=""

cleanup() {
  set +e
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
    kill -TERM "$worker_pid" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 "$worker_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$worker_pid" 2>/dev/null
  fi
  if [ -x "$work/venv/bin/python" ]; then
    "$work/venv/bin/python" - "$PG_URL" "$schema" "$REDIS_URL" "$run_id:" <<'EOF' || true
import sys

import redis
import sqlalchemy

pg_url, schema, redis_url, prefix = sys.argv[1:]
engine = sqlalchemy.create_engine(pg_url)
with engine.begin() as conn:
    conn.execute(sqlalchemy.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
client = redis.Redis.from_url(redis_url)
keys = list(client.scan_iter(match=prefix + "*", count=1000))
if keys:
    client.delete(*keys)
EOF
  fi
  rm -rf "$work"
}
trap cleanup EXIT

log "build the wheel (no dependencies, setuptools from the package index)"
python3 -m pip wheel -q --no-deps --wheel-dir "$work/dist" "$checkout" >"$work/build.log" 2>&1 \
  || { cat "$work/build.log" >&2; fail "the wheel did not build"; }
wheel="$(ls "$work"/dist/docpost-*.whl)" || fail "no docpost wheel in $work/dist"

log "install $(basename "$wheel") into a fresh virtual environment, no extras"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$wheel" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; fail "pip install of the wheel failed"; }
if "$work/venv/bin/python" -c "import pytest" 2>/dev/null; then
  fail "pytest is installed in the plain environment: the test extras leaked into it"
fi

# From here on nothing may come from the checkout: run in an empty folder, no PYTHONPATH.
cd "$work"
unset PYTHONPATH
export PATH="$work/venv/bin:$PATH"
catalog="$(python -c 'import pathlib, docpost.pipeline as p; print(pathlib.Path(p.__file__).parent / "examples/usmf/catalog.json")')"
[ -f "$catalog" ] || fail "the wheel does not ship $catalog"
case "$(python -c 'import docpost.pipeline as p; print(p.__file__)')" in
  "$work"/venv/*) ;;
  *) fail "docpost.pipeline is not imported from the installed wheel" ;;
esac
# One namespace (issue 14): the wheel puts no generic top-level package into site-packages,
# where it would collide with another distribution's (PyPI's `schema`, say).
python - <<'EOF' || fail "the wheel installs top-level packages besides docpost"
import importlib.util
import sys

stray = [n for n in ("pipeline", "tasks", "reports", "schema") if importlib.util.find_spec(n)]
sys.exit(f"top-level packages installed: {stray}" if stray else 0)
EOF

log "a throw-away PostgreSQL schema $schema"
python - "$PG_URL" "$schema" <<'EOF' || fail "cannot create a schema on $PG_URL"
import sys

import sqlalchemy

engine = sqlalchemy.create_engine(sys.argv[1])
with engine.begin() as conn:
    conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{sys.argv[2]}"'))
EOF
case "$PG_URL" in *\?*) sep="&" ;; *) sep="?" ;; esac
export DOCPOST_DATABASE_URL="${PG_URL}${sep}options=-csearch_path%3D${schema}"
export DOCPOST_BROKER_URL="$REDIS_URL"
export DOCPOST_BROKER_KEY_PREFIX="$run_id:"
export DOCPOST_DOCUMENTS_DIR="$work/documents"

log "docpost init"
docpost init || fail "docpost init"

log "docpost load (the shipped USMF catalog)"
docpost load "$catalog" --actor erp || fail "docpost load $catalog"

log "docpost worker on Redis (key prefix $run_id:)"
docpost worker --loglevel INFO --concurrency 1 -Q posting,documents,bulk >"$work/worker.log" 2>&1 &
worker_pid=$!

cat >"$work/requests.jsonl" <<EOF
{"request_id": "$run_id-order", "kind": "upsert_order", "actor": "erp", "payload": {"order": "SO-CI-1", "customer": "US-004", "lines": [{"line": 1, "item": "M0001", "quantity": "2", "unit_price": "300.00"}]}}
{"request_id": "$run_id-confirm", "kind": "confirm_order", "actor": "erp", "payload": {"order": "SO-CI-1"}}
EOF

log "docpost submit --in-order (through the worker)"
docpost submit --json "$work/requests.jsonl" --in-order --timeout "$TIMEOUT" >"$work/outcomes.json" \
  || { cat "$work/outcomes.json" >&2; fail "docpost submit failed, or a request did not succeed (see above)"; }
python - "$work/outcomes.json" <<'EOF' || fail "the outcomes are not both succeeded"
import json
import sys

outcomes = json.load(open(sys.argv[1]))
for outcome in outcomes:
    print(f"  {outcome['request_id']}: {outcome['status']}")
assert len(outcomes) == 2, outcomes
assert all(o["status"] == "succeeded" for o in outcomes), outcomes
EOF
kill -0 "$worker_pid" 2>/dev/null || fail "the worker is not running any more"

log "the confirmation's PDF, rendered by the worker"
rendered=""
for _ in $(seq 1 "$TIMEOUT"); do
  docpost documents --json >"$work/documents.json" || fail "docpost documents"
  rendered="$(python - "$work/documents.json" <<'EOF'
import json
import sys

documents = json.load(open(sys.argv[1]))["documents"]
failed = [d for d in documents if d["status"] == "failed"]
if failed:
    sys.exit(f"render failed: {failed}")
print(" ".join(d["filename"] for d in documents if d["status"] == "rendered"))
EOF
)" || fail "a document failed to render"
  [ -n "$rendered" ] && break
  sleep 1
done
[ -n "$rendered" ] || fail "no document rendered within $TIMEOUT s"
echo "  rendered: $rendered"

log "stop the worker"
kill -TERM "$worker_pid"
for _ in $(seq 1 60); do kill -0 "$worker_pid" 2>/dev/null || break; sleep 1; done
if kill -0 "$worker_pid" 2>/dev/null; then
  fail "the worker did not stop within 60 s of SIGTERM"
fi
wait "$worker_pid" || fail "the worker exited with status $?"
worker_pid=""
if grep -E "Traceback|ModuleNotFoundError|ImportError" "$work/worker.log" >/dev/null; then
  fail "the worker logged an error"
fi

log "ok: the wheel installs without extras, and its worker ran a request on Redis"
