#!/usr/bin/env bash
# Computes SharedKey test vectors for tests/unit/test_azblob_sign.c
# independently of fleetcap's C code: each string to sign is written out by
# hand from the Blob REST "Authorize with Shared Key" rules, and signed with
# the openssl command (HMAC-SHA256 under the base64-decoded key, base64).
# Output (checked in as azblob_sharedkey.txt): per case, a line "case NAME",
# a line "sts " + the string to sign with newlines as \n, a line "sig " +
# the signature. Regenerate: bash tests/vectors/azblob_sharedkey.sh > tests/vectors/azblob_sharedkey.txt
set -euo pipefail

# Azurite's published development key (not a secret).
key='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
hexkey=$(printf '%s' "$key" | base64 -d | od -An -v -tx1 | tr -d ' \n')
date='Sat, 28 Nov 2026 12:00:00 GMT'
ver='2021-08-06'

emit() { # name, string to sign (with real newlines)
	local sig
	sig=$(printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$hexkey" -binary | base64 -w0)
	printf 'case %s\n' "$1"
	printf 'sts %s\n' "$(printf '%s' "$2" | awk 'BEGIN{ORS="\\n"} {print}' | sed 's/\\n$//')"
	printf 'sig %s\n' "$sig"
}

# VERB, Content-Encoding, Content-Language, Content-Length, Content-MD5,
# Content-Type, Date, If-Modified-Since, If-Match, If-None-Match,
# If-Unmodified-Since, Range, then x-ms-* headers sorted, then the resource.
emit put_blob "PUT


1024

application/vnd.tcpdump.pcap






x-ms-blob-type:BlockBlob
x-ms-date:$date
x-ms-version:$ver
/devstoreaccount1/devstoreaccount1/captures/host-1/web.pcap"

emit put_block "PUT


4194304
1B2M2Y8AsgTpgAmY7PhCfg==







x-ms-date:$date
x-ms-version:$ver
/devstoreaccount1/devstoreaccount1/captures/big.pcap
blockid:MDAwMDAwMDAwMDAx
comp:block"

emit get_block_list "GET











x-ms-date:$date
x-ms-version:$ver
/devstoreaccount1/devstoreaccount1/captures/big.pcap
blocklisttype:all
comp:blocklist"

emit put_block_list "PUT


150

application/xml






x-ms-date:$date
x-ms-version:$ver
/myaccount/captures/big.pcap
comp:blocklist"

emit create_container "PUT











x-ms-date:$date
x-ms-version:$ver
/devstoreaccount1/devstoreaccount1/captures
restype:container"
