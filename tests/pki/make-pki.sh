#!/bin/sh
# tests/pki/make-pki.sh DIR: a small PKI made by OpenSSL, for tests of certwiz's import checks.
#
#   root.pem      self-signed CA (EC P-256)         int.pem       intermediate CA under root
#   other-root.pem, other-int.pem                   an unrelated CA pair
#   leaf.key      the "pending key" (EC P-256); leaf.spki.der its SubjectPublicKeyInfo
#   leaf.pem      CN=edge1.example.com, SAN edge1/sip.example.com + IP 192.0.2.10,
#                 EKU serverAuth+clientAuth, issued by int, valid now
#   leaf-expired.pem, leaf-future.pem, leaf-nosan.pem, leaf-clientonly.pem, leaf-other.pem
#                 the same key with one thing wrong each (leaf-other: issued by other-int)
#   leaf-ca.pem   the same names with basicConstraints CA:true (a CA certificate for the key)
#   leaf-certsign.pem  CA:false, keyUsage digitalSignature + keyCertSign
#   leaf-enc.pem  keyUsage keyEncipherment only (no digitalSignature)
#   leaf-crit.pem a critical private extension nobody knows (1.3.6.1.4.1.55555.7)
#   wrongkey.pem  a valid certificate from int for another key
#   bundle.pem    leaf + int + root as PEM;  chain.p7b  the same as DER PKCS#7 certs-only
#   empty.p7b     a PKCS#7 certs-only with no certificate; crit.p7b  leaf-crit + int + root
#
# Issuing uses `openssl ca` (start and end dates in the past or future are what it can do and
# `openssl x509 -req` cannot). Every file is made fresh; nothing depends on the clock but "now".
set -eu
d=$1
mkdir -p "$d"
cd "$d"

ca_dir() {  # ca_dir NAME: an `openssl ca` state directory for the CA NAME
  mkdir -p "ca-$1/new"
  : > "ca-$1/index.txt"
  echo 1000 > "ca-$1/serial"
  cat > "ca-$1/ca.cnf" <<CNF
[ ca ]
default_ca = this
[ this ]
dir = $d/ca-$1
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/new
certificate = $d/$1.pem
private_key = $d/$1.key
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = optional
organizationName = optional
[ leaf ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:edge1.example.com, DNS:sip.example.com, IP:192.0.2.10
[ nosan ]
basicConstraints = CA:false
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:edge1.example.com
[ clientonly ]
basicConstraints = CA:false
extendedKeyUsage = clientAuth
subjectAltName = DNS:edge1.example.com, DNS:sip.example.com, IP:192.0.2.10
[ leafca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:edge1.example.com, DNS:sip.example.com, IP:192.0.2.10
[ leafcertsign ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:edge1.example.com, DNS:sip.example.com, IP:192.0.2.10
[ leafenc ]
basicConstraints = CA:false
keyUsage = critical, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:edge1.example.com, DNS:sip.example.com, IP:192.0.2.10
[ leafcrit ]
basicConstraints = CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:edge1.example.com, DNS:sip.example.com, IP:192.0.2.10
1.3.6.1.4.1.55555.7 = critical, DER:05:00
[ subca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
CNF
}

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

root() {  # root NAME CN
  key "$1"
  openssl req -new -x509 -key "$1.key" -subj "/O=Test PKI/CN=$2" -days 3650 -sha256 \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$1.pem"
  ca_dir "$1"
}

subca() {  # subca NAME PARENT CN
  key "$1"
  openssl req -new -key "$1.key" -subj "/O=Test PKI/CN=$3" -out "$1.csr"
  openssl ca -batch -config "ca-$2/ca.cnf" -extensions subca -days 1825 -in "$1.csr" -out "$1.pem" \
    -notext 2>/dev/null
  ca_dir "$1"
}

issue() {  # issue CA KEY OUT EXTENSIONS [openssl ca date options]
  ca=$1; k=$2; out=$3; ext=$4; shift 4
  openssl req -new -key "$k.key" -subj "/O=Example AG/CN=edge1.example.com" -out "$out.csr"
  openssl ca -batch -config "ca-$ca/ca.cnf" -extensions "$ext" -in "$out.csr" -out "$out.pem" -notext \
    "$@" 2>/dev/null
}

root root "Test Root CA"
subca int root "Test Issuing CA"
root other-root "Other Root CA"
subca other-int other-root "Other Issuing CA"

key leaf
openssl pkey -in leaf.key -pubout -outform DER -out leaf.spki.der
issue int leaf leaf leaf -days 365
issue int leaf leaf-expired leaf -startdate 20200101000000Z -enddate 20210101000000Z
issue int leaf leaf-future leaf -startdate 20400101000000Z -enddate 20410101000000Z
issue int leaf leaf-nosan nosan -days 365
issue int leaf leaf-clientonly clientonly -days 365
issue other-int leaf leaf-other leaf -days 365
issue int leaf leaf-ca leafca -days 365
issue int leaf leaf-certsign leafcertsign -days 365
issue int leaf leaf-enc leafenc -days 365
issue int leaf leaf-crit leafcrit -days 365
key wrongkey
issue int wrongkey wrongkey leaf -days 365

cat leaf.pem int.pem root.pem > bundle.pem
openssl crl2pkcs7 -nocrl -certfile leaf.pem -certfile int.pem -certfile root.pem -outform DER -out chain.p7b
openssl crl2pkcs7 -nocrl -outform DER -out empty.p7b
openssl crl2pkcs7 -nocrl -certfile leaf-crit.pem -certfile int.pem -certfile root.pem -outform DER -out crit.p7b
for f in root int other-root other-int leaf leaf-expired leaf-future leaf-nosan leaf-clientonly leaf-other leaf-ca \
    leaf-certsign leaf-enc leaf-crit wrongkey; do
  openssl x509 -in "$f.pem" -outform DER -out "$f.der"
done
openssl x509 -in root.pem -outform DER | openssl dgst -sha256 -binary > root.sha256
