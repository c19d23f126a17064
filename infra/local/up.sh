#!/usr/bin/env bash
# Start the local docpatch stack (Prefect server, Ray head + 2 worker nodes, S3 server); see stack.py.
# Extra arguments go to `python -m infra.local.stack up` (try --help).
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
exec "$PYTHON" -m infra.local.stack up "$@"
