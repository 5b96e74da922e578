# Throwaway PostgreSQL and MariaDB servers for the tests. Source this file, then call
# start_servers; stop_servers runs on exit. Installs the Debian packages when missing, runs
# each server on a free loopback port in a temporary directory, and exports
#   DBCONSULTANT_TEST_POSTGRES_URL  postgres://postgres:PASSWORD@127.0.0.1:PORT/postgres
#   DBCONSULTANT_TEST_MYSQL_URL     mysql://dbc:PASSWORD@127.0.0.1:PORT/mysql
#   DBCONSULTANT_TEST_POSTGRES_BIN, DBCONSULTANT_TEST_POSTGRES_DATA  (pg_ctl's directory, the data directory)
#   DBCONSULTANT_TEST_TLS_DIR  a throwaway CA (ca.crt), an unrelated one (other-ca.crt) and a
#     client certificate (client.crt, client.key; CN dbc_cert). Both servers have TLS on with a
#     certificate for the name localhost only; logins over TCP:
#   DBCONSULTANT_TEST_POSTGRES_TLS_ONLY_URL / _MYSQL_TLS_ONLY_URL  a login refused without TLS
#   DBCONSULTANT_TEST_POSTGRES_CERT_URL / _MYSQL_CERT_URL  a login by client certificate, no password
# Nothing is left running or on disk afterwards.

_dbc_server_dirs=()
_dbc_pg_ctl=""
_dbc_pg_data=""
_dbc_my_pid=""

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

random_password() {
  python3 -c 'import secrets; print(secrets.token_hex(12))'
}

# A CA, a server certificate for "localhost" (not 127.0.0.1, so verify-full has a wrong name
# to refuse), an unrelated CA and a client certificate, with the openssl command line tool.
make_test_certs() {
  local dir=$1 subj
  mkdir -p "$dir"
  (
    cd "$dir" || exit 1
    for ca in ca other-ca; do
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -keyout "$ca.key" -out "$ca.crt" -subj "/CN=dbconsultant test $ca" 2>/dev/null || exit 1
    done
    for leaf in server client; do
      subj="/CN=localhost"; [ "$leaf" = client ] && subj="/CN=dbc_cert"
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$leaf.key" -out "$leaf.csr" \
        -subj "$subj" 2>/dev/null || exit 1
      printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n' > "$leaf.ext"
      [ "$leaf" = client ] && printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' > "$leaf.ext"
      openssl x509 -req -in "$leaf.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
        -extfile "$leaf.ext" -out "$leaf.crt" 2>/dev/null || exit 1
    done
    chmod 600 ./*.key
  ) || { echo "cannot make test certificates with openssl"; return 1; }
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_server_packages() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v mariadbd >/dev/null 2>&1 || missing+=(mariadb-server)
  # The clients: the MCP tests check tables and objects with them, independently of our drivers.
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
  command -v mariadb >/dev/null 2>&1 || missing+=(mariadb-client)
  # The test CA and certificates (TLS tests).
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  if ((${#missing[@]})); then
    echo "installing ${missing[*]} from Debian packages"
    # Keep the packages' init scripts from starting system services.
    local policy_added=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    [ -n "$policy_added" ] && rm -f /usr/sbin/policy-rc.d
  fi
  # hypopg lets PostgreSQL verify index recommendations (the tests use it).
  local pgver
  pgver=$(ls /usr/lib/postgresql | sort -V | tail -1)
  if [ ! -f "/usr/share/postgresql/$pgver/extension/hypopg.control" ]; then
    echo "installing postgresql-$pgver-hypopg from Debian packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$pgver-hypopg" >/dev/null
  fi
}

start_postgres() {
  local bin dir port pw
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  dir=$(mktemp -d /tmp/dbconsultant-pg.XXXXXX)
  _dbc_server_dirs+=("$dir")
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  pw=$(random_password)
  echo "$pw" > "$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown postgres "$dir/pwfile"
  as_postgres "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log"; return 1; }
  rm -f "$dir/pwfile"
  make_test_certs "$dir/tls" || return 1
  [ "$(id -u)" = 0 ] && chown -R postgres "$dir/tls"
  # Certificate logins and TLS-only logins first; initdb's lines after them.
  { printf 'hostssl all dbc_cert 127.0.0.1/32 cert\nhostnossl all dbc_tls_only 127.0.0.1/32 reject\n'; cat "$dir/data/pg_hba.conf"; } > "$dir/hba"
  cat "$dir/hba" > "$dir/data/pg_hba.conf" && rm -f "$dir/hba"
  port=$(free_port)
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_preload_libraries=pg_stat_statements -c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key -c ssl_ca_file=$dir/tls/ca.crt" \
    start >/dev/null || { cat "$dir/server.log"; return 1; }
  _dbc_pg_ctl="$bin/pg_ctl"
  _dbc_pg_data="$dir/data"
  local tls_pw
  tls_pw=$(random_password)
  as_postgres "$bin/psql" -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE dbc_tls_only LOGIN SUPERUSER PASSWORD '$tls_pw'; CREATE ROLE dbc_cert LOGIN SUPERUSER;" >/dev/null || return 1
  export DBCONSULTANT_TEST_POSTGRES_URL="postgres://postgres:$pw@127.0.0.1:$port/postgres"
  export DBCONSULTANT_TEST_POSTGRES_TLS_ONLY_URL="postgres://dbc_tls_only:$tls_pw@127.0.0.1:$port/postgres"
  export DBCONSULTANT_TEST_POSTGRES_CERT_URL="postgres://dbc_cert@127.0.0.1:$port/postgres"
  export DBCONSULTANT_TEST_TLS_DIR="$dir/tls"
  # The fault-injection suite restarts the server mid-run.
  export DBCONSULTANT_TEST_POSTGRES_BIN="$bin" DBCONSULTANT_TEST_POSTGRES_DATA="$dir/data"
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

start_mariadb() {
  local dir port pw
  dir=$(mktemp -d /tmp/dbconsultant-mariadb.XXXXXX)
  _dbc_server_dirs+=("$dir")
  # Its own tmpdir: a MariaDB server deletes every #sql* file in its tmpdir when it starts, so
  # servers sharing /tmp (the sandbox servers the tests start) would delete each other's.
  mkdir -p "$dir/tmp"
  mariadb-install-db --no-defaults --datadir="$dir/data" --user=root --tmpdir="$dir/tmp" \
    --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
    || { cat "$dir/install.log"; return 1; }
  port=$(free_port)
  mariadbd --no-defaults --datadir="$dir/data" --user=root --port="$port" --bind-address=127.0.0.1 \
    --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" --log-error="$dir/error.log" --tmpdir="$dir/tmp" \
    --skip-log-bin --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 \
    --max-connections=300 --performance-schema=ON \
    --ssl-ca="$DBCONSULTANT_TEST_TLS_DIR/ca.crt" --ssl-cert="$DBCONSULTANT_TEST_TLS_DIR/server.crt" \
    --ssl-key="$DBCONSULTANT_TEST_TLS_DIR/server.key" 2>/dev/null &
  _dbc_my_pid=$!
  for _ in $(seq 1 120); do
    mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
    sleep 0.5
  done
  mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1 || { cat "$dir/error.log"; return 1; }
  pw=$(random_password)
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e \
    "CREATE USER 'dbc'@'127.0.0.1' IDENTIFIED BY '$pw'; GRANT ALL PRIVILEGES ON *.* TO 'dbc'@'127.0.0.1' WITH GRANT OPTION;"
  local tls_pw
  tls_pw=$(random_password)
  mariadb --no-defaults --socket="$dir/mysqld.sock" -uroot -e \
    "CREATE USER 'dbc_tls_only'@'127.0.0.1' IDENTIFIED BY '$tls_pw' REQUIRE SSL; GRANT ALL PRIVILEGES ON *.* TO 'dbc_tls_only'@'127.0.0.1';
     CREATE USER 'dbc_cert'@'127.0.0.1' REQUIRE SUBJECT '/CN=dbc_cert'; GRANT ALL PRIVILEGES ON *.* TO 'dbc_cert'@'127.0.0.1';"
  export DBCONSULTANT_TEST_MYSQL_URL="mysql://dbc:$pw@127.0.0.1:$port/mysql"
  export DBCONSULTANT_TEST_MYSQL_TLS_ONLY_URL="mysql://dbc_tls_only:$tls_pw@127.0.0.1:$port/mysql"
  export DBCONSULTANT_TEST_MYSQL_CERT_URL="mysql://dbc_cert@127.0.0.1:$port/mysql"
  echo "MariaDB $(mariadbd --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_servers() {
  if [ -n "$_dbc_pg_ctl" ]; then
    as_postgres "$_dbc_pg_ctl" -D "$_dbc_pg_data" -m immediate stop >/dev/null 2>&1 || true
    _dbc_pg_ctl=""
  fi
  if [ -n "$_dbc_my_pid" ]; then
    kill "$_dbc_my_pid" 2>/dev/null || true
    wait "$_dbc_my_pid" 2>/dev/null || true
    _dbc_my_pid=""
  fi
  local d
  for d in "${_dbc_server_dirs[@]}"; do rm -rf "$d"; done
  _dbc_server_dirs=()
}

start_servers() {
  install_server_packages
  trap stop_servers EXIT
  trap 'stop_servers; exit 130' INT TERM
  start_postgres
  start_mariadb
}
