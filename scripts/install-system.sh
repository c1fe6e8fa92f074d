#!/usr/bin/env bash
# Installs the Debian packages the app needs, only those missing. Idempotent.
# As root (or with passwordless sudo) it runs apt-get; otherwise it prints the exact command.
set -euo pipefail

need_run=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-noto-cjk
          poppler-utils)
need_test=(zbar-tools chromium postgresql wrk)  # wrk: the benchmarks (make bench, bench-quick)
packages=("${need_run[@]}")
[ "${1:-}" = "--test" ] && packages+=("${need_test[@]}")
[ "${1:-}" = "--all" ] && packages+=("${need_test[@]}")

# A system Python without ensurepip (Debian/Ubuntu without python3-venv) cannot make .venv.
if ! "${PYTHON:-python3}" -c "import ensurepip, venv" 2>/dev/null; then
  packages+=(python3-venv)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo
  echo "These Debian packages are missing. Run this once, then try again:"
  echo
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  echo
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "System packages installed."
