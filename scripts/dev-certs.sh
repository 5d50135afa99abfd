#!/usr/bin/env bash
# Development certificates for TLS and mutual TLS (tests and local runs; never production).
#
#   scripts/dev-certs.sh OUT_DIR [CLIENT_NAME ...]
#
# Writes to OUT_DIR (created if missing), all PEM:
#   ca.pem / ca.key                 a development CA (10 years)
#   server.pem / server.key         the server certificate, SAN 127.0.0.1, ::1 and localhost (serverAuth)
#   client-NAME.pem / client-NAME.key   one client certificate per NAME (default: ingest analyst admin auditor),
#                                   subject CN=NAME, clientAuth, issued by the same CA
# Needs openssl (Debian: apt-get install openssl). Run it twice into the same folder to get new keys.
set -euo pipefail

out="${1:?usage: dev-certs.sh OUT_DIR [CLIENT_NAME ...]}"
shift
clients=("$@")
if [ ${#clients[@]} -eq 0 ]; then
  clients=(ingest analyst admin auditor)
fi

mkdir -p "$out"
cd "$out"
umask 077

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
  -subj "/CN=HomaBone Development CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca.key -out ca.pem 2>/dev/null

issue() { # name subject extfile
  local name="$1" subject="$2" ext="$3"
  openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "$subject" -keyout "$name.key" -out "$name.csr" 2>/dev/null
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -sha256 \
    -extfile "$ext" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr"
}

cat > server.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost
EXT
issue server "/CN=localhost" server.ext

cat > client.ext <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EXT
for name in "${clients[@]}"; do
  issue "client-$name" "/CN=$name" client.ext
done

rm -f server.ext client.ext ca.srl
chmod 644 ./*.pem
echo "development certificates in $(pwd): ca.pem, server.pem, ${clients[*]/#/client-}"
