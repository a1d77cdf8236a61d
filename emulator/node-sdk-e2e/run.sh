#!/usr/bin/env bash
# Runs the official node-sdk end-to-end suite (smartcar/node-sdk test/end-to-end) against
# `npm run emulator`, in a temporary copy: nothing of node-sdk is kept in this repository.
#
#   emulator/node-sdk-e2e/run.sh <node-sdk checkout or git URL> [extra ava arguments]
#
# Environment: EMULATOR_LATENCY (default realistic) and EMULATOR_LATENCY_SCALE (default 0.01, so
# the documented 3–45 s per vehicle request become 30–450 ms), CHROME_PATH (default /usr/bin/chromium).
# The emulator keeps its state in memory, so each run meets a fresh platform.
set -euo pipefail

source=${1:?usage: $0 <node-sdk checkout or git URL> [ava arguments]}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
port=${EMULATOR_PORT:-4110}
trap 'kill "$emulator" 2>/dev/null || true; rm -rf "$work"' EXIT

git clone --quiet "$source" "$work/node-sdk"
cd "$work/node-sdk"
# Only what the end-to-end tests require (not the SDK's whole tool chain); Selenium and geckodriver
# are replaced by the helper below.
node -e 'const f="package.json",p=require("./"+f);delete p.devDependencies;require("fs").writeFileSync(f,JSON.stringify(p))'
npm install --no-save --no-audit --no-fund --ignore-scripts ava@4 lodash@4 uuid@8 is-ci@3 >/dev/null
cp "$root/emulator/node-sdk-e2e/helpers.js" test/end-to-end/helpers/index.js

(cd "$root" && EMULATOR_PORT=$port EMULATOR_STATE_FILE=none EMULATOR_LATENCY=${EMULATOR_LATENCY:-realistic} \
  EMULATOR_LATENCY_SCALE=${EMULATOR_LATENCY_SCALE:-0.01} exec node --import tsx emulator/main.ts) &
emulator=$!
until curl -s -o /dev/null "http://127.0.0.1:$port/v2.0/vehicles"; do sleep 0.5; done

origin="http://127.0.0.1:$port"
# The v3 tests point the SDK at Smartcar's live v3 origin and the management tests need a real
# application management token: neither can run offline, so they are left out.
CAR_CONNECT_ROOT=$root SMARTCAR_API_ORIGIN=$origin SMARTCAR_AUTH_ORIGIN=$origin \
  E2E_SMARTCAR_CLIENT_ID=emulator-client-id E2E_SMARTCAR_CLIENT_SECRET=emulator-client-secret \
  npx ava --serial --timeout=120s \
  --match='!*v3*' --match='!getConnections*' --match='!deleteConnections*' \
  "$@" test/end-to-end
