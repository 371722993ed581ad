#!/usr/bin/env bash
# actionlint (lints .github/workflows) from the Go module proxy, cached in $MCPROOF_CACHE/actionlint/bin.
# Idempotent: a second run with the same version does nothing. Prints the binary's path.
set -euo pipefail

ACTIONLINT_VERSION=${ACTIONLINT_VERSION:-v1.7.12}
MCPROOF_CACHE=${MCPROOF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcproof}
BIN="$MCPROOF_CACHE/actionlint/bin"
stamp="$BIN/.version"

if [ -x "$BIN/actionlint" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$ACTIONLINT_VERSION" ]; then
  echo "$BIN/actionlint"
  exit 0
fi
command -v go >/dev/null || { echo "[actionlint] go not found; install Go to lint workflows" >&2; exit 1; }
printf '[actionlint] building %s with go install (one time)\n' "$ACTIONLINT_VERSION" >&2
mkdir -p "$BIN"
GOBIN="$BIN" GOTOOLCHAIN=local GOFLAGS=-mod=mod nice -n 19 \
  go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}" >&2
echo "$ACTIONLINT_VERSION" > "$stamp"
echo "$BIN/actionlint"
