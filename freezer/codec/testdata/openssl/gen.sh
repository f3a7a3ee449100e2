#!/bin/sh
# Regenerates the OpenSSL known-answer vectors in this directory with the
# openssl CLI (they were generated once, with OpenSSL 3.0, and committed;
# the tests only read them). The salts are random, as freezer's own
# `openssl enc` calls make them, so each run gives different files; the
# tests take the salt from each file's "Salted__" header.
set -eu
cd "$(dirname "$0")"
printf 'freezer test passphrase\nthis second line is ignored\n' > pass.txt
# Plaintexts: a small text compressed by the CLI tools, and a tar archive.
mkdir -p src && i=0
while [ $i -lt 60 ]; do echo "line $i of the freezer known-answer plaintext"; i=$((i+1)); done > src/file.txt
gzip -n -9 -c src/file.txt > plain.gz
bzip2 -9 -c src/file.txt > plain.bz2
tar --format=gnu --owner=0 --group=0 --numeric-owner --mtime=@1700000000 -C src -cf plain.tar file.txt
rm -r src
: > empty
enc() { openssl enc -aes-256-cfb -md "$1" -pass file:pass.txt -in "$2" -out "$2.$1.enc" 2>/dev/null; }
enc sha256 plain.gz
enc md5 plain.gz
enc sha256 plain.bz2
enc md5 plain.bz2
enc sha256 plain.tar
enc md5 plain.tar
enc sha256 empty
# Key/IV derivations: digest, passphrase (hex), salt (hex), key, iv.
: > evp.txt
for md in sha256 md5; do
  for pw in freezer "freezer test passphrase" a; do
    for salt in 0102030405060708 ffffffffffffffff; do
      openssl enc -aes-256-cfb -md $md -S $salt -pass "pass:$pw" -P 2>/dev/null |
        awk -v md=$md -v pw="$(printf %s "$pw" | od -An -tx1 | tr -d ' \n')" \
          -F= '/^salt/{s=$2} /^key/{k=$2} /^iv/{v=$2} END{print md, pw, tolower(s), tolower(k), tolower(v)}' >> evp.txt
    done
  done
done
