#!/usr/bin/env bash
# open3d needs the Debian library libusb-1.0-0 to import. Install it when we can
# (root + apt), otherwise say exactly what to install. Usage: ensure_system_libs.sh PYTHON
set -u
py="${1:-python3}"
if "$py" -c "import open3d" >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "[i2p] open3d cannot import yet: installing libusb-1.0-0 with apt-get"
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libusb-1.0-0 >/dev/null 2>&1 || true
fi
if ! err=$("$py" -c "import open3d" 2>&1); then
  echo "[i2p] open3d still cannot import: ${err##*$'\n'}" >&2
  echo "[i2p] install the system library it needs, e.g. 'sudo apt-get install libusb-1.0-0' (Debian/Ubuntu)," >&2
  echo "[i2p] then run make again." >&2
  exit 1
fi
