#!/bin/sh
# Install everything tempo's build, tests and benchmarks need, from Debian 12's
# packages. Idempotent: packages already present are not reinstalled, and apt is
# only consulted when something is missing. Run as root (or with sudo available).
# The GUI examples' tests (tests/examples) need GTK 3 and Qt 5 Core to build
# their programs and Xvfb to show the GTK window; they do without recommends
# (a font comes with fontconfig's dependencies). The MongoDB store's tests need
# FerretDB, built from the Go module proxy by install-ferretdb.sh (needs Go).
set -eu
here=$(cd "$(dirname "$0")" && pwd)

packages="
  build-essential cmake ninja-build pkg-config git
  clang-14 libclang-rt-14-dev
  libbson-dev libcmocka-dev libev-dev libuv1-dev libglib2.0-dev
  libsqlite3-dev sqlite3 libmongoc-dev
  tzdata
  python3 python3-croniter python3-apscheduler python3-sqlalchemy python3-pymongo
  valgrind
  libgtk-3-dev xvfb xauth qtbase5-dev
"

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

ferretdb() {
  sh "$here/install-ferretdb.sh"
}

if [ -z "$missing" ]; then
  echo "setup: all packages present"
  ferretdb
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "setup: missing packages:$missing; run this script as root" >&2
  exit 1
fi

echo "setup: installing$missing"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
ferretdb
echo "setup: done"
