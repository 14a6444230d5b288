#!/usr/bin/env bash
# The README's test command: installs what the tests need (Chromium, Postfix tools, SpamAssassin) when missing, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# smtp-sink (a real Postfix-side SMTP server) for the messenger tests and the bench; no daemon is started.
[ -x /usr/sbin/smtp-sink ] || [ -x /usr/lib/postfix/smtp-sink ] || need+=(postfix)
# SpamAssassin's local rules score the digest and the confirmation email (test/mail-spamassassin.test.ts).
command -v spamassassin >/dev/null 2>&1 || need+=(spamassassin)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    policy=/usr/sbin/policy-rc.d
    made_policy=
    if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; made_policy=1; fi
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    [ -n "$made_policy" ] && rm -f "$policy"
    postfix stop >/dev/null 2>&1 || true
  else
    echo "missing ${need[*]}: install with apt-get (needs root)" >&2
  fi
fi
npm ci --no-audit --no-fund
npm run typecheck
npm run lint
# The compiled build runs (migrations, queries and templates found from dist/).
npm run build
build_data=$(mktemp -d)
DATA_DIR="$build_data" node dist/cli/index.js papers --limit 1 >/dev/null
rm -rf "$build_data"
# The busy-database test (vitest.config.ts, project "busy") runs after the rest, alone: what it measures is paperboy
# during a big ingest, not the other test files sharing the two cores.
npx vitest run --project main
npx vitest run --project busy
