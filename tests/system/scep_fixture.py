#!/usr/bin/python3
"""SCEP test infrastructure: the real micromdm `scepserver` 2.1.0 (Debian package `scep`) in a private
network namespace, and a proxy in front of it that can hide POSTPKIOperation, answer PENDING, or drop
a connection.

ScepServer
    Creates a fresh CA depot (`scepserver ca -init`) and runs
    `scepserver -depot DIR -port P -challenge SECRET -allowrenew 0 -debug`.
    scepserver has no listen-address option and binds every interface. As root everything runs in a
    private network namespace that has only `lo` (`unshare --net` holding `sleep infinity`; other
    processes join it with `nsenter --net=/proc/PID/ns/net`). Not as root, it runs on the host and a
    note says it listens on every interface. Run the firmware with `server.start_device(...)` so it
    lives in the same namespace: slirp's 10.0.2.2 is that namespace's loopback, so the device uses
    `server.device_url` (http://10.0.2.2:P/scep).

ScepProxy
    A threaded HTTP/1.1 server between the device and scepserver that forwards /scep requests and
    logs each one (operation, method, messageType, transactionID, what it did). Modes:
    no_post     GetCACaps answers lose POSTPKIOperation (and SCEPStandard, which RFC 8894 3.5.2 says
                implies POST support); a POST PKIOperation gets 405, GETs are forwarded unchanged.
    pending=N   The proxy stands in for a CA with manual approval, because the real server never
                answers PENDING: the first N PKCSReq/RenewalReq/CertPoll messages get a CertRep PENDING
                signed with the CA key (SHA-256 with RSA). The first PKCSReq/RenewalReq of a
                transaction is forwarded to scepserver behind the scenes and its CertRep kept; once
                the N are used up, a CertPoll (or a re-sent request) of that transaction gets a new
                CertRep SUCCESS carrying the kept EnvelopedData (encrypted to the requester's key),
                signed with the CA key, with the poll's transactionID and recipientNonce = its
                senderNonce. A refusal of the real server (FAILURE) is passed on at once.
    drop_after=K  PKIOperation number K (1-based) gets no answer: the connection is closed after the
                request is read (not forwarded; with drop_forwarded=True it is forwarded first and
                the answer thrown away). Later requests are served again.
    hostile_leaf  The proxy stands in for a hostile (or broken) CA, which micromdm scepserver cannot
                be made into: a PKCSReq gets a CertRep SUCCESS, signed with the CA key, carrying a
                certificate the proxy issues with the CA key for the requester's key with
                basicConstraints cA and keyCertSign: a CA certificate where an end entity's belongs.
    replay_renewal  The proxy stands in for an attacker on the path who replays an old answer: the
                first RenewalReq gets the last CertRep SUCCESS the real server sent before (the
                original enrolment's: authentic, but for another transaction). Later requests are
                forwarded.
    cacert_file=F  GetCACert is answered with the DER file F (a PKCS#7 of the CA and RA
                certificates the test made), not forwarded: the proxy stands in for a CA that
                works through a registration authority, which micromdm scepserver cannot.

As root the proxy runs as a subprocess in the namespace:
    python3 scep_fixture.py proxy --upstream URL --port P --ca-key K --ca-cert C
                                  [--pending N] [--no-post] [--drop-after K] [--drop-forwarded]
                                  [--cacert-file F] --log FILE
(--port 0 picks a free port; it prints `ready PORT` when it listens). Not as root it runs in-process.

Example (a system test):

    from conftest import SOFTHSM_MODULE
    from scep_fixture import ScepProxy, ScepServer

    def test_enrol_pending(tmp_path, token):
        with ScepServer(tmp_path / "scep", key_size=2048, challenge="s3cret") as ca, \
                ScepProxy(ca, pending=1) as proxy:
            dev = ca.start_device("--module", SOFTHSM_MODULE, "--token", f"pkcs11:token={token.label}",
                                  env=token.env)        # certwiz in the namespace (a conftest.Device)
            try:
                r = dev.cwctl("http", "get", proxy.device_url + "?operation=GetCACaps")
                ...                                     # enrol against proxy.device_url / ca.device_url
            finally:
                rc, err = dev.stop()
            assert rc == 0, err
            assert [e["message_type_name"] for e in proxy.pki_requests()] == ["PKCSReq", "CertPoll"]
        # leaving the with-blocks kills every process started through the fixture and the namespace

Facts measured on scepserver 2.1.0 beyond ../shared/DESIGN.md: `ca -init` writes depot/ca.pem and a
legacy-PEM ca.key "encrypted" with an empty password (ca_key_path is a plain PKCS#8 copy); the CA
certificate's keyUsage is keyCertSign+cRLSign only (no digitalSignature) although it signs every
CertRep, so `openssl cms -verify` needs `-purpose any`; GET PKIOperation works with base64 that is
percent-encoded, a raw '+' or base64url gets HTTP 500 "illegal base64 data"; CertPoll gets HTTP 500;
re-enrolling a subject revokes the previous certificate.
"""
import argparse
import base64
import datetime
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from asn1crypto import algos, cms, core, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, padding as sympadding, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SCEPSERVER = "/usr/bin/scepserver"
HERE = Path(__file__).resolve()

# ---------------------------------------------------------------------------------------------
# SCEP messages (RFC 8894 3.2): the signed attributes, taught to asn1crypto


class _SetOfPrintableString(core.SetOf):
    _child_spec = core.PrintableString


class _SetOfOctetString(core.SetOf):
    _child_spec = core.OctetString


SCEP_ATTRIBUTES = {  # RFC 8894 3.2.1
    "2.16.840.1.113733.1.9.2": ("scep_message_type", _SetOfPrintableString),
    "2.16.840.1.113733.1.9.3": ("scep_pki_status", _SetOfPrintableString),
    "2.16.840.1.113733.1.9.4": ("scep_fail_info", _SetOfPrintableString),
    "2.16.840.1.113733.1.9.5": ("scep_sender_nonce", _SetOfOctetString),
    "2.16.840.1.113733.1.9.6": ("scep_recipient_nonce", _SetOfOctetString),
    "2.16.840.1.113733.1.9.7": ("scep_transaction_id", _SetOfPrintableString),
}
for _oid, (_name, _spec) in SCEP_ATTRIBUTES.items():
    cms.CMSAttributeType._map[_oid] = _name
    cms.CMSAttribute._oid_specs[_name] = _spec
cms.CMSAttributeType._reverse_map = None  # rebuilt from _map on next use

MESSAGE_TYPES = {3: "CertRep", 17: "RenewalReq", 19: "PKCSReq", 20: "CertPoll", 21: "GetCert", 22: "GetCRL"}
PKI_STATUS = {"0": "SUCCESS", "2": "FAILURE", "3": "PENDING"}
FAIL_BAD_CERT_ID = "4"


class IssuerAndSubject(core.Sequence):
    """CertPoll's content (RFC 8894 3.3.3)."""
    _fields = [("issuer", x509.Name), ("subject", x509.Name)]


def parse_pki_message(der):
    """The SCEP view of a pkiMessage (signedData): a dict with message_type (int), pki_status,
    fail_info, transaction_id, sender_nonce, recipient_nonce (bytes), envelope (the eContent bytes,
    b'' or None when empty/absent), digest_algorithm, signature_algorithm, certificates (DER list)."""
    ci = cms.ContentInfo.load(der)
    if ci["content_type"].native != "signed_data":
        raise ValueError(f"not a signedData but {ci['content_type'].native}")
    sd = ci["content"]
    si = sd["signer_infos"][0]
    attrs = {}
    for a in si["signed_attrs"]:
        attrs[a["type"].native] = a["values"][0].native
    content = sd["encap_content_info"]["content"]
    mt = attrs.get("scep_message_type")
    return {
        "message_type": int(mt) if mt is not None else None,
        "pki_status": attrs.get("scep_pki_status"),
        "fail_info": attrs.get("scep_fail_info"),
        "transaction_id": attrs.get("scep_transaction_id"),
        "sender_nonce": attrs.get("scep_sender_nonce"),
        "recipient_nonce": attrs.get("scep_recipient_nonce"),
        "envelope": None if isinstance(content, core.Void) else content.native,
        "digest_algorithm": si["digest_algorithm"]["algorithm"].native,
        "signature_algorithm": si["signature_algorithm"]["algorithm"].native,
        "certificates": [c.chosen.dump() for c in sd["certificates"]] if sd["certificates"] else [],
        "signed_attrs": attrs,
    }


def _attr(name, value):
    return cms.CMSAttribute({"type": name, "values": [value]})


def sign_pki_message(key, cert_der, message_type, transaction_id, sender_nonce, content=b"",
                     extra_attrs=()):
    """A SCEP pkiMessage: signedData over `content` (the DER of the pkcsPKIEnvelope, or b'' for
    none: an empty eContent, as RFC 8894 3.3.2 allows), SHA-256 with RSA, signed by `key`
    (a cryptography RSA private key) whose certificate `cert_der` is included and named as signer."""
    cert = x509.Certificate.load(cert_der)
    attrs = [
        _attr("content_type", "data"),
        _attr("signing_time", cms.Time({"utc_time": datetime.datetime.now(datetime.timezone.utc)})),
        _attr("message_digest", hashlib.sha256(content).digest()),
        _attr("scep_message_type", str(message_type)),
        _attr("scep_transaction_id", transaction_id),
        _attr("scep_sender_nonce", sender_nonce),
        *extra_attrs,
    ]
    signed_attrs = cms.CMSAttributes(attrs)
    to_sign = signed_attrs.dump()  # the SET OF (DER, sorted), as RFC 5652 5.4 wants it signed
    signature = key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
    signer = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
        "signed_attrs": cms.CMSAttributes.load(to_sign),
        "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
        "signature": signature,
    })
    sd = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
        "encap_content_info": {"content_type": "data", "content": content},
        "certificates": [cert],
        "signer_infos": [signer],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump()


def build_cert_rep(ca_key, ca_cert_der, transaction_id, recipient_nonce, pki_status, envelope=b"",
                   fail_info=None):
    """A CertRep (messageType 3) signed with the CA key: pki_status "0" SUCCESS (with the
    EnvelopedData bytes), "2" FAILURE (with fail_info) or "3" PENDING (no envelope)."""
    extra = [_attr("scep_pki_status", pki_status), _attr("scep_recipient_nonce", recipient_nonce)]
    if fail_info is not None:
        extra.append(_attr("scep_fail_info", fail_info))
    return sign_pki_message(ca_key, ca_cert_der, 3, transaction_id, os.urandom(16), envelope, extra)


def envelop(plain, recipient_cert_der):
    """CMS EnvelopedData (RFC 5652 6) of `plain` for the RSA recipient: AES-128-CBC, key transport
    with RSAES-PKCS1-v1_5, recipient named by issuer and serial number. Returns the ContentInfo DER."""
    cert = x509.Certificate.load(recipient_cert_der)
    pub = cx509.load_der_x509_certificate(recipient_cert_der).public_key()
    cek, iv = os.urandom(16), os.urandom(16)
    padder = sympadding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    enc = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    ciphertext = enc.update(padded) + enc.finalize()
    ktri = cms.KeyTransRecipientInfo({
        "version": "v0",
        "rid": cms.RecipientIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": cert.issuer, "serial_number": cert.serial_number})}),
        "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15"},
        "encrypted_key": pub.encrypt(cek, padding.PKCS1v15()),
    })
    env = cms.EnvelopedData({
        "version": "v0",
        "recipient_infos": [cms.RecipientInfo({"ktri": ktri})],
        "encrypted_content_info": {
            "content_type": "data",
            "content_encryption_algorithm": {"algorithm": "aes128_cbc", "parameters": iv},
            "encrypted_content": ciphertext,
        },
    })
    return cms.ContentInfo({"content_type": "enveloped_data", "content": env}).dump()


def build_cert_poll(key, signer_cert_der, ca_cert_der, transaction_id, subject_der, sender_nonce=None):
    """A CertPoll (messageType 20, RFC 8894 3.3.3): IssuerAndSubject (issuer = the CA's subject,
    subject = the requested subject, `subject_der` a DER Name) enveloped to the CA, signed by the
    requester's key with its signer certificate. Returns (der, sender_nonce)."""
    ca = x509.Certificate.load(ca_cert_der)
    ias = IssuerAndSubject({"issuer": ca.subject, "subject": x509.Name.load(subject_der)})
    nonce = sender_nonce or os.urandom(16)
    return sign_pki_message(key, signer_cert_der, 20, transaction_id, nonce,
                            envelop(ias.dump(), ca_cert_der)), nonce


class Requester:
    """A SCEP requester written with python3-cryptography/asn1crypto, for messages a test must shape
    itself (GET with RFC 8894 base64, CertPoll): an RSA key, a self-signed signer certificate, and
    PKCSReq/CertPoll builders. Requester(cn) makes a new key; Requester.load(key_pem, cert_pem)
    takes an existing pair (for example scepclient's key and self.pem)."""

    def __init__(self, cn="requester", key=None, cert_der_=None, key_size=2048):
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        self.key = key or rsa.generate_private_key(65537, key_size)
        if cert_der_ is None:
            name = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, cn)])
            now = datetime.datetime.now(datetime.timezone.utc)
            cert = (cx509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(self.key.public_key()).serial_number(cx509.random_serial_number())
                    .not_valid_before(now - datetime.timedelta(minutes=5))
                    .not_valid_after(now + datetime.timedelta(days=1)).sign(self.key, hashes.SHA256()))
            cert_der_ = cert.public_bytes(serialization.Encoding.DER)
        self.cert_der = cert_der_
        self.subject_der = x509.Certificate.load(cert_der_).subject.dump()
        spki = self.key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        self.transaction_id = hashlib.sha256(spki).hexdigest()  # RFC 8894 3.2.1.1: from the key

    @classmethod
    def load(cls, key_path, cert_path):
        return cls(key=load_private_key(key_path), cert_der_=cert_der(cert_path))

    def pkcs_req(self, ca_der, challenge, cn=None):
        """(der, sender_nonce) of a PKCSReq for this key, subject CN=cn (default: the signer's)."""
        from cryptography.x509.oid import AttributeOID, NameOID
        subject = (cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, cn)]) if cn else
                   cx509.load_der_x509_certificate(self.cert_der).subject)
        b = cx509.CertificateSigningRequestBuilder().subject_name(subject)
        if challenge is not None:
            b = b.add_attribute(AttributeOID.CHALLENGE_PASSWORD, challenge.encode())
        csr = b.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        nonce = os.urandom(16)
        return sign_pki_message(self.key, self.cert_der, 19, self.transaction_id, nonce,
                                envelop(csr, ca_der)), nonce

    def cert_poll(self, ca_der, transaction_id=None, subject_der=None):
        """(der, sender_nonce) of a CertPoll for this key's transaction."""
        return build_cert_poll(self.key, self.cert_der, ca_der, transaction_id or self.transaction_id,
                               subject_der or self.subject_der)


def load_private_key(path):
    data = Path(path).read_bytes()
    try:
        return serialization.load_pem_private_key(data, None)
    except TypeError:  # encrypted: scepserver's depot key has an empty password by default
        return serialization.load_pem_private_key(data, b"")


def cert_der(path):
    data = Path(path).read_bytes()
    if b"-----BEGIN" in data:
        return cx509.load_pem_x509_certificate(data).public_bytes(serialization.Encoding.DER)
    return data


# ---------------------------------------------------------------------------------------------
# The proxy

class ProxyCore:
    """What the proxy does with one request; shared by the in-process and subprocess forms."""

    def __init__(self, upstream, ca_key_path, ca_cert_path, log_path, pending=0, no_post=False,
                 drop_after=None, drop_forwarded=False, cacert_file=None, hostile_leaf=False,
                 replay_renewal=False):
        u = urllib.parse.urlsplit(upstream)
        self.upstream_host, self.upstream_port = u.hostname, u.port or 80
        self.ca_key = load_private_key(ca_key_path)
        self.ca_cert = cert_der(ca_cert_path)
        self.log_path = Path(log_path)
        self.pending_left = pending
        self.pending = pending
        self.no_post = no_post
        self.drop_after = drop_after
        self.drop_forwarded = drop_forwarded
        self.cacert_file = cacert_file
        self.hostile_leaf = hostile_leaf
        self.replay_renewal = replay_renewal
        self.last_success = None  # the last CertRep SUCCESS of the real server (bytes)
        self.lock = threading.Lock()
        self.seq = 0
        self.pki_count = 0
        self.kept = {}  # transactionID -> CertRep SUCCESS of the real server, parsed
        self.log_path.write_text("")
        if pending:
            self.log({"note": "ScepProxy stands in for a CA with manual approval: micromdm scepserver "
                              "2.1.0 never answers PENDING, so the proxy answers PENDING itself "
                              f"{pending} time(s) and then the real server's certificate"})
        if cacert_file:
            self.log({"note": "ScepProxy stands in for a CA with an RA: micromdm scepserver has none, "
                              f"so GetCACert is answered with {cacert_file}"})
        if hostile_leaf:
            self.log({"note": "ScepProxy stands in for a hostile CA: it answers a PKCSReq with a CA "
                              "certificate for the requester's key, which micromdm scepserver never issues"})
        if replay_renewal:
            self.log({"note": "ScepProxy stands in for an attacker replaying an old CertRep: the first "
                              "RenewalReq gets the real server's last SUCCESS answer again"})

    def log(self, entry):
        with open(self.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def forward(self, method, path, body, content_type):
        conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            headers = {"Content-Type": content_type} if content_type else {}
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, r.reason, r.getheader("Content-Type"), r.read()
        finally:
            conn.close()

    def handle(self, method, path, body, content_type):
        """Returns (status, reason, content_type, body) or None to drop the connection; logs."""
        with self.lock:
            self.seq += 1
            entry = {"n": self.seq, "method": method, "path": urllib.parse.urlsplit(path).path}
        query = urllib.parse.urlsplit(path).query
        params = {}
        for part in query.split("&") if query else []:
            k, _, v = part.partition("=")
            params[urllib.parse.unquote(k)] = v  # `message` is base64: '+' stays '+' (RFC 8894 4.1)
        op = urllib.parse.unquote(params.get("operation", ""))
        entry["operation"] = op
        try:
            answer = self._handle(method, path, body, content_type, op, params, entry)
        except Exception as e:  # a fixture bug must show in the log, not as a silent reset
            entry["error"] = repr(e)
            answer = (500, "Proxy Error", "text/plain", f"scep proxy: {e!r}\n".encode())
        if answer is not None:
            entry["http_status"] = answer[0]
            if answer[2] == "application/x-pki-message":
                reply_file = self.log_path.with_name(f"{self.log_path.stem}-reply-{entry['n']}.der")
                reply_file.write_bytes(answer[3])
                entry["reply_file"] = str(reply_file)
                try:
                    rep = parse_pki_message(answer[3])
                    entry["pki_status"] = PKI_STATUS.get(rep["pki_status"], rep["pki_status"])
                    if rep["fail_info"] is not None:
                        entry["fail_info"] = rep["fail_info"]
                except Exception as e:
                    entry["reply_error"] = repr(e)
        self.log(entry)
        return answer

    def _handle(self, method, path, body, content_type, op, params, entry):
        if op == "GetCACert" and self.cacert_file:
            entry["action"] = "answered from the test's CA/RA file"
            return 200, "OK", "application/x-x509-ca-ra-cert", Path(self.cacert_file).read_bytes()
        if op != "PKIOperation":
            entry["action"] = "forwarded"
            try:
                status, reason, ctype, data = self.forward(method, path, body, content_type)
            except OSError as e:
                entry["action"] = f"upstream unreachable: {e}"
                return 502, "Bad Gateway", "text/plain", f"scep proxy: upstream: {e}\n".encode()
            if op == "GetCACaps" and self.no_post and status == 200:
                caps = [c for c in data.decode().split("\n") if c.strip() not in ("POSTPKIOperation", "SCEPStandard")]
                data = "\n".join(caps).encode()
                entry["action"] = "forwarded, POSTPKIOperation and SCEPStandard removed"
            return status, reason, ctype, data

        with self.lock:
            self.pki_count += 1
            number = self.pki_count
        entry["pki_number"] = number
        try:
            if method == "POST":
                message = body
            else:
                raw = params.get("message", "")
                b64 = urllib.parse.unquote(raw)
                if "-" in b64 or "_" in b64:  # not RFC 8894 4.1, but what scepclient sends
                    entry["message_encoding"] = "base64url"
                    message = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
                else:
                    # a '+' left unencoded reads as a space to scepserver (HTTP 500)
                    entry["message_encoding"] = "base64, '+' not percent-encoded" if "+" in raw else "base64"
                    message = base64.b64decode(b64 + "=" * (-len(b64) % 4))
            req = parse_pki_message(message)
            entry["message_type"] = req["message_type"]
            entry["message_type_name"] = MESSAGE_TYPES.get(req["message_type"])
            entry["transaction_id"] = req["transaction_id"]
            entry["sender_nonce"] = req["sender_nonce"].hex() if req["sender_nonce"] else None
        except Exception as e:
            req = None
            entry["parse_error"] = repr(e)

        if self.no_post and method == "POST":
            entry["action"] = "refused: POST while GetCACaps hides POSTPKIOperation"
            return 405, "Method Not Allowed", "text/plain", b"POST PKIOperation not offered\n"
        if self.drop_after == number:
            if self.drop_forwarded:
                try:
                    self.forward(method, path, body, content_type)
                except OSError:
                    pass
                entry["action"] = "dropped after forwarding (server gone mid-way)"
            else:
                entry["action"] = "dropped (server gone mid-way)"
            return None

        if req and self.pending and req["message_type"] in (17, 19, 20):
            answer = self._pending(method, path, body, content_type, req, entry)
            if answer is not None:
                return answer
        if req and self.hostile_leaf and req["message_type"] == 19:
            entry["action"] = "SUCCESS with a CA certificate for the requester's key (hostile CA stand-in)"
            return self._rep(req, "0", envelope=self._hostile_envelope(req))
        if req and self.replay_renewal and req["message_type"] == 17 and self.last_success is not None:
            with self.lock:
                old, self.last_success = self.last_success, None
                self.replay_renewal = False
            entry["action"] = "answered with the real server's last SUCCESS again (replay stand-in)"
            return 200, "OK", "application/x-pki-message", old
        entry["action"] = "forwarded"
        try:
            answer = self.forward(method, path, body, content_type)
        except OSError as e:
            entry["action"] = f"upstream unreachable: {e}"
            return 502, "Bad Gateway", "text/plain", f"scep proxy: upstream: {e}\n".encode()
        if answer[0] == 200 and answer[2] == "application/x-pki-message":
            try:
                if parse_pki_message(answer[3])["pki_status"] == "0":
                    with self.lock:
                        self.last_success = answer[3]
            except Exception:
                pass
        return answer

    def _hostile_envelope(self, req):
        """A certs-only PKCS#7 with a CA certificate for the key of the request's signer
        certificate (a PKCSReq's transient self-signed one: the request's own key), issued with the
        CA key, enveloped to that signer."""
        signer_der = req["certificates"][0]
        signer = cx509.load_der_x509_certificate(signer_der)
        ca_cert = cx509.load_der_x509_certificate(self.ca_cert)
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (cx509.CertificateBuilder()
                .subject_name(signer.subject)
                .issuer_name(ca_cert.subject)
                .public_key(signer.public_key())
                .serial_number(cx509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=30))
                # the names the request asks for (its signer certificate carries its CN), so
                # that only the certificate's kind is wrong
                .add_extension(cx509.SubjectAlternativeName([cx509.DNSName(a.value) for a in
                                                             signer.subject.get_attributes_for_oid(
                                                                 cx509.oid.NameOID.COMMON_NAME)]),
                               critical=False)
                .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(cx509.KeyUsage(digital_signature=True, content_commitment=False,
                                              key_encipherment=False, data_encipherment=False,
                                              key_agreement=False, key_cert_sign=True, crl_sign=True,
                                              encipher_only=False, decipher_only=False), critical=True)
                .sign(self.ca_key, hashes.SHA256()))
        der = cert.public_bytes(serialization.Encoding.DER)
        sd = cms.SignedData({
            "version": "v1",
            "digest_algorithms": [],
            "encap_content_info": {"content_type": "data"},
            "certificates": [x509.Certificate.load(der)],
            "signer_infos": [],
        })
        certs_only = cms.ContentInfo({"content_type": "signed_data", "content": sd}).dump()
        return envelop(certs_only, signer_der)

    def _pending(self, method, path, body, content_type, req, entry):
        """The manual-approval stand-in; None means: not ours, forward as usual."""
        tid = req["transaction_id"]
        with self.lock:
            kept = self.kept.get(tid)
            left = self.pending_left
        if kept is None and req["message_type"] == 20:
            entry["action"] = "CertPoll for an unknown transaction: FAILURE badCertId"
            return self._rep(req, "2", fail_info=FAIL_BAD_CERT_ID)
        if kept is None and left == 0:
            return None
        if kept is None:
            status, reason, ctype, data = self.forward(method, path, body, content_type)
            real = None
            if status == 200:
                try:
                    real = parse_pki_message(data)
                except Exception:
                    real = None
            if real is None or real["pki_status"] != "0":
                entry["action"] = "forwarded (the real CA did not issue: its answer is passed on)"
                return status, reason, ctype, data
            with self.lock:
                self.kept[tid] = kept = real
            entry["kept_real_certrep"] = True
        with self.lock:
            pend = self.pending_left > 0
            if pend:
                self.pending_left -= 1
        if pend:
            entry["action"] = "PENDING (stand-in for a CA with manual approval)"
            return self._rep(req, "3")
        entry["action"] = "SUCCESS from the kept CertRep of the real server, re-signed"
        return self._rep(req, "0", envelope=kept["envelope"])

    def _rep(self, req, status, envelope=b"", fail_info=None):
        der = build_cert_rep(self.ca_key, self.ca_cert, req["transaction_id"], req["sender_nonce"] or b"",
                             status, envelope or b"", fail_info)
        return 200, "OK", "application/x-pki-message", der


def _make_http_server(core_, port):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _serve(self, method):
            body = self._body() if method == "POST" else None
            answer = core_.handle(method, self.path, body, self.headers.get("Content-Type"))
            if answer is None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            status, reason, ctype, data = answer
            self.send_response(status, reason)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    return Server(("127.0.0.1", port), Handler)


def _proxy_main(argv):
    ap = argparse.ArgumentParser(prog="scep_fixture.py proxy")
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ca-key", required=True)
    ap.add_argument("--ca-cert", required=True)
    ap.add_argument("--pending", type=int, default=0)
    ap.add_argument("--no-post", action="store_true")
    ap.add_argument("--drop-after", type=int)
    ap.add_argument("--drop-forwarded", action="store_true")
    ap.add_argument("--cacert-file")
    ap.add_argument("--hostile-leaf", action="store_true")
    ap.add_argument("--replay-renewal", action="store_true")
    ap.add_argument("--log", required=True)
    a = ap.parse_args(argv)
    core_ = ProxyCore(a.upstream, a.ca_key, a.ca_cert, a.log, a.pending, a.no_post, a.drop_after,
                      a.drop_forwarded, a.cacert_file, a.hostile_leaf, a.replay_renewal)
    srv = _make_http_server(core_, a.port)
    if a.pending:
        print("scep proxy: standing in for a CA with manual approval (micromdm scepserver never "
              "answers PENDING)", file=sys.stderr, flush=True)
    print(f"ready {srv.server_address[1]}", flush=True)
    srv.serve_forever()


# ---------------------------------------------------------------------------------------------
# The server and its namespace

# Runs inside the namespace: one HTTP request, the answer as JSON on stdout.
_FETCH = r"""
import base64, json, sys, urllib.request, urllib.error
url, method, data = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, data=base64.b64decode(data) if method == "POST" else None, method=method)
try:
    with urllib.request.urlopen(req, timeout=float(sys.argv[4])) as r:
        out = {"status": r.status, "headers": dict(r.headers), "body": base64.b64encode(r.read()).decode()}
except urllib.error.HTTPError as e:
    out = {"status": e.code, "headers": dict(e.headers), "body": base64.b64encode(e.read()).decode()}
except Exception as e:
    out = {"status": None, "error": repr(e), "headers": {}, "body": ""}
print(json.dumps(out))
"""

# Runs inside the namespace: wait until GetCACaps answers (bounded), or until stdin closes.
_WAIT_CAPS = r"""
import sys, time, urllib.request
url, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
err = None
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url + "?operation=GetCACaps", timeout=2) as r:
            body = r.read().decode()
            if r.status == 200 and body:
                print(body.replace("\n", " "), flush=True)
                sys.exit(0)
    except Exception as e:
        err = e
    time.sleep(0.02)
print("no answer:", repr(err), flush=True)
sys.exit(1)
"""

_FREE_PORT = r"""
import socket
s = socket.socket()
s.bind(("", 0))
print(s.getsockname()[1])
"""


class ScepServer:
    """micromdm scepserver from a fresh depot; see the module docstring.

    ScepServer(tmp_dir=None, key_size=2048, challenge="s3cret", organization="certwiz test CA",
               country="US", ou="SCEP CA", years=10, allowrenew="0", crtvalid=None, netns=None)
    netns: None = as root yes, else no. Attributes: url, device_url, port, depot, ca_cert_path (PEM),
    ca_key_path (unencrypted PEM copy of the CA key), ca_der, ca_sha256 (hex), caps, log_path, netns.
    """

    def __init__(self, tmp_dir=None, key_size=2048, challenge="s3cret", organization="certwiz test CA",
                 country="US", ou="SCEP CA", years=10, allowrenew="0", crtvalid=None, netns=None):
        self._own_tmp = tmp_dir is None
        self.dir = Path(tempfile.mkdtemp(prefix="scep-")) if tmp_dir is None else Path(tmp_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key_size, self.challenge = key_size, challenge
        self.ca_args = ["-organization", organization, "-country", country, "-organizational_unit", ou,
                        "-years", str(years)]
        self.allowrenew, self.crtvalid = allowrenew, crtvalid
        self.netns = (os.geteuid() == 0) if netns is None else netns
        self.depot = self.dir / "depot"
        self.log_path = self.dir / "scepserver.log"
        self.ns_pid = None
        self._holder = None
        self._server = None
        self._procs = []
        self.port = None

    # -- namespace ---------------------------------------------------------------------------
    def ns_argv(self, argv):
        """argv prefixed so that it runs in the server's network namespace (unchanged on the host)."""
        argv = [str(a) for a in argv]
        if self.netns:
            return ["nsenter", f"--net=/proc/{self.ns_pid}/ns/net", "--", *argv]
        return argv

    def run_in_ns(self, argv, **kw):
        """subprocess.run in the namespace (text on, output captured unless stdout/stderr are
        given, timeout 60 s)."""
        if "stdout" not in kw and "stderr" not in kw:
            kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 60)
        return subprocess.run(self.ns_argv(argv), **kw)

    def popen_in_ns(self, argv, **kw):
        """subprocess.Popen in the namespace; the process is killed on close() if still running."""
        p = subprocess.Popen(self.ns_argv(argv), **kw)
        self._procs.append(p)
        return p

    def start_device(self, *extra_args, env=None):
        """conftest.start_device, with certwiz in the server's namespace. Returns a conftest.Device."""
        from conftest import CERTWIZ, Device
        p = self.popen_in_ns([CERTWIZ, "--uart", "pty", *extra_args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
        line = p.stdout.readline()
        m = re.match(r"certwiz: console on (/dev/pts/\d+)", line)
        if not m:
            p.kill()
            out, err = p.communicate()
            raise RuntimeError(f"certwiz did not announce its pty: {line!r} {out!r} {err!r}")
        return Device(p, m.group(1))

    def http(self, url, method="GET", data=b"", timeout=10):
        """One HTTP request from inside the namespace: dict status (None if no answer), headers,
        body (bytes), error."""
        r = self.run_in_ns([sys.executable, "-c", _FETCH, url, method, base64.b64encode(data).decode(),
                            str(timeout)], timeout=timeout + 20)
        if r.returncode != 0:
            raise RuntimeError(f"fetch helper failed: {r.stderr}")
        out = json.loads(r.stdout)
        out["body"] = base64.b64decode(out["body"])
        return out

    def _make_namespace(self):
        self._holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "infinity"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self.ns_pid = self._holder.pid
        mine = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 5
        while True:  # unshare execs sleep in the new namespace: wait until it has switched
            try:
                if os.readlink(f"/proc/{self.ns_pid}/ns/net") != mine:
                    break
            except OSError:
                pass
            if self._holder.poll() is not None:
                raise RuntimeError(f"unshare --net failed: {self._holder.stderr.read().decode()}")
            if time.monotonic() > deadline:
                raise RuntimeError("unshare --net did not enter a new network namespace within 5 s")
            time.sleep(0.005)
        r = self.run_in_ns(["ip", "link", "set", "lo", "up"])
        if r.returncode != 0:
            raise RuntimeError(f"ip link set lo up in the namespace: {r.stderr}")

    def _free_port(self):
        if self.netns:
            r = self.run_in_ns([sys.executable, "-c", _FREE_PORT])
            if r.returncode != 0:
                raise RuntimeError(f"picking a port in the namespace: {r.stderr}")
            return int(r.stdout)
        with socket.socket() as s:
            s.bind(("", 0))  # scepserver binds every interface: the port must be free on all
            return s.getsockname()[1]

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self):
        try:
            self.setup()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc):
        self.close()

    def setup(self):
        for tool in (SCEPSERVER, "unshare", "nsenter", "ip") if self.netns else (SCEPSERVER,):
            if not shutil.which(tool):
                raise RuntimeError(f"{tool} is not installed (scepserver: Debian package scep)")
        r = subprocess.run([SCEPSERVER, "ca", "-init", "-depot", str(self.depot), "-keySize", str(self.key_size),
                            *self.ca_args], capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or not (self.depot / "ca.pem").exists():
            raise RuntimeError(f"scepserver ca -init failed ({r.returncode}): {r.stdout}{r.stderr}")
        self.ca_cert_path = self.depot / "ca.pem"
        self.ca_der = cert_der(self.ca_cert_path)
        self.ca_sha256 = hashlib.sha256(self.ca_der).hexdigest()
        # The depot's key is legacy-PEM "encrypted" with an empty password: keep a plain copy.
        self.ca_key_path = self.dir / "ca-key.pem"
        self.ca_key_path.write_bytes(load_private_key(self.depot / "ca.key").private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        if self.netns:
            self._make_namespace()
        self.port = self._free_port()
        self.url = f"http://127.0.0.1:{self.port}/scep"
        self.device_url = f"http://10.0.2.2:{self.port}/scep"
        if not self.netns:
            print(f"scep_fixture: not root, so scepserver runs on the host, and it listens on every "
                  f"interface (port {self.port}): it has no listen-address option", file=sys.stderr)
        self.start()

    def start(self, timeout=10):
        """Start scepserver (again) on the same port and depot; returns when GetCACaps answers."""
        if self._server is not None and self._server.poll() is None:
            raise RuntimeError("scepserver is already running")
        argv = [SCEPSERVER, "-depot", self.depot, "-port", self.port, "-allowrenew", self.allowrenew, "-debug"]
        if self.challenge is not None:
            argv += ["-challenge", self.challenge]
        if self.crtvalid is not None:
            argv += ["-crtvalid", self.crtvalid]
        log = open(self.log_path, "ab")
        try:
            self._server = self.popen_in_ns(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        waiter = self.popen_in_ns([sys.executable, "-c", _WAIT_CAPS, self.url, str(timeout)],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        while waiter.poll() is None:
            if self._server.poll() is not None:
                waiter.kill()
                waiter.wait()
                raise RuntimeError(f"scepserver exited with {self._server.returncode}: {self.server_log()}")
            time.sleep(0.01)
        out = waiter.stdout.read().strip()
        if waiter.returncode != 0:
            self.stop()
            raise RuntimeError(f"scepserver did not answer GetCACaps on {self.url} within {timeout} s: "
                               f"{out}\n{self.server_log()}")
        self.caps = out.split()

    def stop(self):
        """Stop scepserver (SIGTERM, then SIGKILL); the namespace and depot stay."""
        p, self._server = self._server, None
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    @property
    def running(self):
        return self._server is not None and self._server.poll() is None

    def server_log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def close(self):
        self.stop()
        for p in self._procs:
            if p.poll() is None:
                p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._procs = []
        if self._holder is not None:
            if self._holder.poll() is None:
                self._holder.kill()
            self._holder.wait()
            self._holder = None
        if self._own_tmp:
            shutil.rmtree(self.dir, ignore_errors=True)


class ScepProxy:
    """The proxy (module docstring) in front of `server`, in its namespace (subprocess) or in-process
    on loopback. Attributes: url, device_url, port, log_path. requests() reads the log: a list of
    dicts with n, method, path, operation, pki_number, message_type, message_type_name,
    transaction_id, sender_nonce (hex), message_encoding (GET), action, http_status, pki_status,
    fail_info, reply_file (every pkiMessage answer is kept as DER next to the log)."""

    def __init__(self, server, pending=0, no_post=False, drop_after=None, drop_forwarded=False,
                 cacert_file=None, hostile_leaf=False, replay_renewal=False, name="proxy"):
        self.server = server
        self.log_path = server.dir / f"{name}.log"
        self.stderr_path = server.dir / f"{name}.stderr"
        self._proc = None
        self._http = None
        args = dict(pending=pending, no_post=no_post, drop_after=drop_after, drop_forwarded=drop_forwarded,
                    cacert_file=cacert_file, hostile_leaf=hostile_leaf, replay_renewal=replay_renewal)
        if server.netns:
            argv = [sys.executable, HERE, "proxy", "--upstream", server.url, "--port", "0",
                    "--ca-key", server.ca_key_path, "--ca-cert", server.ca_cert_path, "--log", self.log_path,
                    "--pending", str(pending)]
            argv += ["--no-post"] if no_post else []
            argv += ["--drop-after", str(drop_after)] if drop_after is not None else []
            argv += ["--drop-forwarded"] if drop_forwarded else []
            argv += ["--cacert-file", str(cacert_file)] if cacert_file else []
            argv += ["--hostile-leaf"] if hostile_leaf else []
            argv += ["--replay-renewal"] if replay_renewal else []
            with open(self.stderr_path, "wb") as err:
                self._proc = server.popen_in_ns(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                stderr=err, text=True)
            line = self._proc.stdout.readline()
            m = re.match(r"ready (\d+)$", line.strip())
            if not m:
                self.close()
                raise RuntimeError(f"scep proxy did not start: {line!r} "
                                   f"{self.stderr_path.read_text(errors='replace')}")
            self.port = int(m.group(1))
        else:
            core_ = ProxyCore(server.url, server.ca_key_path, server.ca_cert_path, self.log_path, **args)
            self._http = _make_http_server(core_, 0)
            self.port = self._http.server_address[1]
            threading.Thread(target=self._http.serve_forever, daemon=True).start()
            if pending:
                print("scep_fixture: the proxy stands in for a CA with manual approval (micromdm "
                      "scepserver never answers PENDING)", file=sys.stderr)
        self.url = f"http://127.0.0.1:{self.port}/scep"
        self.device_url = f"http://10.0.2.2:{self.port}/scep"

    def requests(self):
        if not self.log_path.exists():
            return []
        return [e for e in (json.loads(l) for l in self.log_path.read_text().splitlines() if l) if "n" in e]

    def notes(self):
        if not self.log_path.exists():
            return []
        return [e["note"] for e in (json.loads(l) for l in self.log_path.read_text().splitlines() if l)
                if "note" in e]

    def pki_requests(self):
        return [e for e in self.requests() if e.get("operation") == "PKIOperation"]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc.stdout.close()
            self._proc = None
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None


try:
    import pytest

    @pytest.fixture
    def scep_server(tmp_path):
        """A ScepServer with an RSA-2048 CA and challenge "s3cret" (import it into a test module)."""
        with ScepServer(tmp_path / "scep") as s:
            yield s
except ImportError:  # the proxy subprocess does not need pytest
    pass


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "proxy":
        sys.exit(f"usage: {sys.argv[0]} proxy --upstream URL --port P --ca-key K --ca-cert C "
                 "[--pending N] [--no-post] [--drop-after K] [--drop-forwarded] [--hostile-leaf] "
                 "[--replay-renewal] --log FILE")
    _proxy_main(sys.argv[2:])
