#!/bin/sh
# test-cert.sh DIR NAME: a test CA in DIR (ca.pem, made on first use) and a
# certificate for 127.0.0.1 signed by it, DIR/NAME.pem, with its key
# DIR/NAME.key (mode 0600). Prints the key's pin: the base64 SHA-256 of its
# SubjectPublicKeyInfo, as Chromium's --ignore-certificate-errors-spki-list
# takes it.
set -eu
dir=$1
name=$2
cd "$dir"
if [ ! -f ca.pem ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=fleetcap test CA" -keyout ca.key -out ca.pem 2>/dev/null
fi
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
	-keyout "$name.key" -out "$name.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$name.ext"
openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
	-extfile "$name.ext" -out "$name.pem" 2>/dev/null
chmod 600 "$name.key"
rm -f "$name.csr" "$name.ext"
openssl pkey -in "$name.key" -pubout -outform der | openssl dgst -sha256 -binary | base64
