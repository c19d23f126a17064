#!/usr/bin/env bash
# Stop exactly the processes infra/local/up.sh started (by process id); see stack.py.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
exec "$PYTHON" -m infra.local.stack down "$@"
