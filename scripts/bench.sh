#!/usr/bin/env bash
# Runs every package's benchmark (`pnpm bench`): one JSON line per figure,
# {"bench","metric","value","unit","baseline","ratio"}. Bootstraps the checkout first.
set -euo pipefail

# shellcheck source=scripts/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$SLUICE_ROOT"
pnpm bench
