#!/usr/bin/env bash
# The one test command (README): installs what the tests need and is missing, builds warning-free, checks
# formatting and the protos, runs every test, and ends with one line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '\n== %s\n' "$*" >&2; }

# 1. Debian packages used by the reference, DICOM and cluster tests (installed only when missing).
need=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
have_py() { /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }
have_cmd Rscript || need+=(r-base-core)
have_py statsmodels || need+=(python3-statsmodels)
have_py scipy || need+=(python3-scipy)
have_py numpy || need+=(python3-numpy)
have_py grpc || need+=(python3-grpcio)
have_py grpc_tools || need+=(python3-grpc-tools)
have_py pydicom || need+=(python3-pydicom)
have_cmd dcmconv || need+=(dcmtk)
have_cmd gdcmconv || need+=(libgdcm-tools)
have_cmd sqlite3 || need+=(sqlite3)
have_cmd protoc || need+=(protobuf-compiler)
have_cmd grpc_python_plugin || need+=(protobuf-compiler-grpc)
[ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
have_cmd redis-server || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >&2
fi

# 2. npm tools pinned by package-lock.json (buf, Kubernetes schema validation), into the project's own node_modules.
if [ ! -x node_modules/.bin/buf ] || [ ! -f node_modules/kubernetes-models/package.json ] || [ ! -f node_modules/yaml/package.json ]; then
  log "installing npm tools"
  npm ci --no-audit --no-fund >&2
fi

# 3. Contracts: buf lint (STANDARD + COMMENTS) and no breaking change against the previous commit on main.
log "buf lint"
node_modules/.bin/buf lint
if git rev-parse -q --verify HEAD~1 >/dev/null 2>&1 && git cat-file -e HEAD~1:protos/homabone 2>/dev/null; then
  log "buf breaking against HEAD~1"
  node_modules/.bin/buf breaking --against '.git#ref=HEAD~1'
fi

# Kubernetes manifests (kustomize render, JSON-schema validation, policy) and Dockerfiles, offline.
log "k8s manifests and Dockerfiles"
set +e
k8s_out=$(mktemp)
node tests/k8s/validate.mjs >"$k8s_out" 2>&1
k8s_rc=$?
set -e
cat "$k8s_out" >&2
k8s_summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$k8s_out" | tail -n 1)
[ -n "$k8s_summary" ] || k8s_summary="0 passed, 1 failed"

# 4. Build (warnings are errors via Directory.Build.props) and formatting.
log "build"
dotnet build HomaBone.sln -c Release -nologo -v quiet -clp:ErrorsOnly >&2
log "dotnet format --verify-no-changes"
dotnet format HomaBone.sln --verify-no-changes --no-restore >&2

# 5. Tests: every test project, TRX results summed into the closing line.
log "tests"
rm -rf TestResults
set +e
# One test assembly at a time: the end-to-end and cluster suites start real processes on loopback ports and
# must not race each other for them (or for the 2 cores their timing assertions assume).
dotnet test HomaBone.sln -c Release --no-build -m:1 --logger "trx" --results-directory "$ROOT/TestResults" -- RunConfiguration.TreatNoTestsAsError=true >&2
test_rc=$?
set -e
summary=$(/usr/bin/python3 scripts/trx_summary.py TestResults)
if [ "$test_rc" -ne 0 ] && [ "$(echo "$summary" | awk '{print $3}')" = "0" ]; then
  # dotnet test failed without a failed test (a crash or a build problem): count it as a failure.
  summary=$(echo "$summary" | awk '{print $1" passed, "($3+1)" failed"}')
fi
# The closing line sums the .NET test results and the manifest checks.
printf '%s\n%s\n' "$summary" "$k8s_summary" | awk '{p+=$1; f+=$3} END {print p" passed, "f" failed"}'
[ "$test_rc" -eq 0 ] && [ "$k8s_rc" -eq 0 ]
