#!/usr/bin/env bash
# Start Debian's PostgreSQL for the recorder tests: trust auth on 127.0.0.1 only (tests, not production).
# Idempotent; installs the package when it is missing. Tests read HEARTLINE_TEST_PG
# (default postgresql+psycopg://postgres@127.0.0.1:5432).
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  $SUDO apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  $SUDO pg_createcluster "$version" main >/dev/null
fi
conf=/etc/postgresql/$version/main
cat <<HBA | $SUDO tee "$conf/pg_hba.conf" >/dev/null
# Heartline test server: trust on loopback only.
local   all all                trust
host    all all 127.0.0.1/32   trust
host    all all ::1/128        trust
HBA
$SUDO sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/; s/^#\?port = .*/port = 5432/" "$conf/postgresql.conf"
if pg_lsclusters -h | grep -q "^$version main .* online"; then
  $SUDO pg_ctlcluster "$version" main reload
else
  $SUDO pg_ctlcluster "$version" main start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
  sleep 1
done
echo "PostgreSQL did not become ready on 127.0.0.1:5432" >&2
exit 1
