#!/usr/bin/env bash
# Install what the project needs, skipping whatever is already there:
#   Debian packages (JDK 17, Maven, Redis, PostgreSQL, Kerberos headers for the hdfs extra),
#   the Python environment .venv from requirements.lock, and the JVM jars (into ~/.m2).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# ---- system packages -------------------------------------------------------------------
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v krb5-config >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v npm >/dev/null 2>&1 || missing+=(npm)
# Test-only: the headless browser of the Airflow UI test (Playwright drives the Debian build).
test_missing=()
command -v chromium >/dev/null 2>&1 || test_missing+=(chromium)
missing+=("${test_missing[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's postgresql package starts its own cluster on 5432; the project runs its own server.
if command -v pg_lsclusters >/dev/null 2>&1 && pg_lsclusters -h 2>/dev/null | grep -q online; then
  say "stopping Debian's default PostgreSQL cluster (the project runs its own on the same port)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO pg_ctlcluster --force "$(pg_lsclusters -h | awk '/online/{print $1; exit}')" \
    "$(pg_lsclusters -h | awk '/online/{print $2; exit}')" stop || true
fi
# Same for the redis-server the Debian package may have started as a system service (it keeps
# its pid in /run/redis); a redis-server of this project is left alone.
if [ -s /run/redis/redis-server.pid ] && kill -0 "$(cat /run/redis/redis-server.pid)" 2>/dev/null; then
  say "stopping Debian's redis-server service (the project runs its own on the same port)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  (command -v systemctl >/dev/null && $SUDO systemctl stop redis-server 2>/dev/null) || \
    $SUDO service redis-server stop || true
fi

# ---- Python environment ------------------------------------------------------------------
lock_sum=$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
if [ "$(cat .venv/.installed 2>/dev/null)" != "$lock_sum" ]; then
  say "installing Python dependencies from requirements.lock (first time: a few minutes)"
  .venv/bin/pip install -q --upgrade pip wheel setuptools
  .venv/bin/pip install -q -r requirements.lock
  .venv/bin/pip install -q --no-deps -e .
  echo "$lock_sum" > .venv/.installed
fi
# Airflow puts plugins/ on sys.path itself; the venv does the same, so that the tests and tools
# such as lint-imports (the layer contract) import smartcar_plugins as Airflow does.
site_packages=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$PWD/plugins" > "$site_packages/smartcar-pilot-plugins.pth"

# ---- the dashboard's chart code (npm registry, cached in ~/.npm; served locally, no CDN) ----
if [ "$(cat dashboard/node_modules/.installed 2>/dev/null)" != "$(sha256sum dashboard/package-lock.json | cut -c1-16)" ]; then
  say "installing the dashboard's chart library (chart.js) from npm"
  npm ci --prefix dashboard --no-audit --no-fund --silent
  sha256sum dashboard/package-lock.json | cut -c1-16 > dashboard/node_modules/.installed
fi

# ---- JVM jars (Maven cache) ----------------------------------------------------------------
say "resolving JVM jars into the Maven cache"
.venv/bin/pilot stack jars
say "ready"
