#!/usr/bin/env bash
# Checkov in its OWN virtualenv (never the harness's .venv): its pins downgrade `packaging` and
# `python-dateutil` below what pytest and the kubernetes client need (see FIELD-NOTES.md).
#
# Idempotent and cached: $MCPROOF_CACHE/checkov-venv (default ~/.cache/mcproof/checkov-venv) with a
# stamp naming the version; a second run with the same version does nothing. Prints the checkov path.
# Knobs: CHECKOV_VERSION (default 3.3.30), MCPROOF_CACHE, PYTHON.
# The scan itself runs offline: mcproof.security.checkov passes --skip-download, BC_SKIP_MAPPING=TRUE,
# CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE (else its banner asks PyPI for a newer version) and a dead loopback
# proxy, so any call out that remains fails locally instead of leaving the machine.
set -euo pipefail

CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}
MCPROOF_CACHE=${MCPROOF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcproof}
PYTHON=${PYTHON:-python3}
VENV="$MCPROOF_CACHE/checkov-venv"
stamp="$VENV/.mcproof-checkov"

say() { printf '[checkov] %s\n' "$*" >&2; }

mkdir -p "$MCPROOF_CACHE"
exec 9>"$MCPROOF_CACHE/.checkov.lock"
flock 9

if [ -x "$VENV/bin/checkov" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$CHECKOV_VERSION" ]; then
  echo "$VENV/bin/checkov"
  exit 0
fi
say "creating $VENV with checkov $CHECKOV_VERSION (~290 MB, one time)"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q "checkov==$CHECKOV_VERSION"
BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 \
  "$VENV/bin/checkov" --version >/dev/null
echo "$CHECKOV_VERSION" > "$stamp"
say "ready: $VENV/bin/checkov"
echo "$VENV/bin/checkov"
