#!/usr/bin/env bash
# rnnviz for a class: N replicas of the app behind nginx, sharing one session folder.
#
#   deploy/cluster.sh N PORT            start, and stop everything on Ctrl-C
#   deploy/cluster.sh start N PORT      the same in the background;  deploy/cluster.sh stop PORT
#   deploy/cluster.sh status PORT | restart PORT I | rolling PORT
#
# The work is done by deploy/cluster.py (see its docstring); this picks the Python that has the app's
# requirements: $PYTHON, else the repository's .venv (the README's quick start makes it), else python3.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="${PYTHON:-}"
if [ -z "$py" ]; then
  if [ -x "$here/../.venv/bin/python" ]; then py="$here/../.venv/bin/python"; else py="python3"; fi
fi
if ! "$py" -c "import streamlit" 2>/dev/null; then
  echo "deploy/cluster.sh: $py cannot import streamlit: install the app first (see the README's quick start) or set PYTHON" >&2
  exit 2
fi
exec "$py" "$here/cluster.py" "$@"
