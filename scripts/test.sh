#!/usr/bin/env bash
# The README's test command: installs what the tests need (Chromium, Postfix tools) when missing, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "missing ${need[*]}: install with apt-get (needs root)" >&2
  fi
fi
npm ci --no-audit --no-fund
npm run typecheck
npx vitest run
