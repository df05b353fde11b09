#!/usr/bin/env bash
# Runs the demo: bash scripts/demo.sh [demo arguments]
# Bootstraps the checkout (pnpm, install, build), then hands over to examples/demo.mjs.
set -euo pipefail

# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$SLUICE_ROOT"

if [ ! -f examples/demo.mjs ]; then
  echo "demo: examples/demo.mjs does not exist yet; there is no demo to run" >&2
  exit 1
fi
exec node examples/demo.mjs "$@"
