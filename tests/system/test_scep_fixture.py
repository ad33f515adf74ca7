"""The SCEP fixtures (scep_fixture.py) proved with a client nobody here wrote: Debian's `scepclient`
(micromdm 2.1.0), and checked with `openssl`. Everything runs in the fixture's private network
namespace as root, or on the host's loopback otherwise.

Measured about scepclient 2.1.0 (the tests keep them honest):
- it writes csr.pem, self.pem and client.pem beside -private-key and reuses a csr.pem/self.pem it
  finds there, so every client gets its own directory;
- -ca-fingerprint takes the SHA-256 of the CA certificate; a wrong one: "no selected CA/RA recipients";
- without POSTPKIOperation (and SCEPStandard) in GetCACaps it uses GET, but encodes the message as
  base64url, which scepserver 2.1.0 refuses (HTTP 500 "illegal base64 data"): the two do not
  interoperate over GET. scepserver takes RFC 8894 4.1 GET (base64, percent-encoded);
- on PENDING it logs "sleeping for 30 seconds, then trying again." and re-sends the same PKCSReq
  (same bytes, same senderNonce) after 30 s; it never sends CertPoll.
"""
import base64
import os
import queue
import re
import socket
import subprocess
import threading
import time
import urllib.parse

import pytest
from asn1crypto import csr as acsr
from cryptography.hazmat.primitives import serialization

from scep_fixture import (IssuerAndSubject, Requester, ScepProxy, ScepServer, parse_pki_message,
                          scep_server)  # noqa: F401  (scep_server is a fixture)

CHALLENGE = "s3cret"


def scepclient(srv, url, workdir, cn, challenge=CHALLENGE, extra=(), timeout=30):
    """Debian's scepclient in the server's namespace, in its own directory (see the docstring).
    Its log (stderr) and its final error (stdout) are both in .stdout."""
    workdir.mkdir(exist_ok=True)
    return srv.run_in_ns(["scepclient", "-server-url", url, "-challenge", challenge,
                          "-private-key", workdir / "key.pem", "-cn", cn, "-debug", *extra], timeout=timeout,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def openssl(*args, check=True):
    r = subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True, timeout=30)
    if check:
        assert r.returncode == 0, f"openssl {' '.join(map(str, args))} failed: {r.stdout}{r.stderr}"
    return r


def assert_issued(ca, cert_path, key_path, cn):
    """The certificate verifies against the CA (openssl verify), names cn and holds key_path's key."""
    r = openssl("verify", "-CAfile", ca.ca_cert_path, cert_path)
    assert r.stdout.strip() == f"{cert_path}: OK", r.stdout + r.stderr
    subject = openssl("x509", "-in", cert_path, "-noout", "-subject", "-nameopt", "RFC2253").stdout
    assert f"CN={cn}" in subject, subject
    assert openssl("x509", "-in", cert_path, "-noout", "-pubkey").stdout == \
        openssl("pkey", "-in", key_path, "-pubout").stdout, "the certificate is not for the requester's key"


def certrep_cert(tmp, ca, reply_der, key_path, signer_cert_path, name):
    """Open a CertRep SUCCESS with openssl only: verify its signature against the CA, decrypt the
    envelope with the requester's key, take the certificate out of the degenerate PKCS#7."""
    d = tmp / name
    d.mkdir()
    (d / "rep.der").write_bytes(reply_der)
    openssl("cms", "-verify", "-inform", "DER", "-in", d / "rep.der", "-CAfile", ca.ca_cert_path,
            "-purpose", "any", "-out", d / "env.der", "-binary")
    openssl("cms", "-decrypt", "-inform", "DER", "-in", d / "env.der", "-inkey", key_path,
            "-recip", signer_cert_path, "-provider", "legacy", "-provider", "default", "-out", d / "p7.der")
    certs = openssl("pkcs7", "-inform", "DER", "-in", d / "p7.der", "-print_certs").stdout
    assert certs.count("BEGIN CERTIFICATE") == 1, certs
    (d / "cert.pem").write_text(certs)
    return d / "cert.pem"


def asn1_csr_subject(csr_der):
    return acsr.CertificationRequest.load(csr_der)["certification_request_info"]["subject"]


class LineReader:
    """Collects a process's output lines in a thread, so a test can wait for one with a bound."""

    def __init__(self, proc):
        self.lines, self.q = [], queue.Queue()
        threading.Thread(target=self._run, args=(proc,), daemon=True).start()

    def _run(self, proc):
        for line in proc.stdout:
            self.q.put(line)
        self.q.put(None)

    def wait_for(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.q.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if re.search(pattern, line):
                return line
        pytest.fail(f"no line matching {pattern!r} within {timeout} s:\n{''.join(self.lines)}")

    def rest(self):
        while (line := self.q.get(timeout=5)) is not None:
            self.lines.append(line)
        return "".join(self.lines)


@pytest.mark.parametrize("key_size", [2048, 4096])
def test_scepclient_enrols(tmp_path, key_size):
    with ScepServer(tmp_path / "scep", key_size=key_size) as ca:
        text = openssl("x509", "-in", ca.ca_cert_path, "-noout", "-text", "-fingerprint", "-sha256").stdout
        assert f"Public-Key: ({key_size} bit)" in text
        assert "O = certwiz test CA" in text
        fp = re.search(r"sha256 Fingerprint=([0-9A-F:]+)", text, re.I).group(1)
        assert fp.replace(":", "").lower() == ca.ca_sha256
        assert openssl("pkey", "-in", ca.ca_key_path, "-pubout").stdout == \
            openssl("x509", "-in", ca.ca_cert_path, "-noout", "-pubkey").stdout
        assert ca.caps == ["Renewal", "SHA-1", "SHA-256", "AES", "DES3", "SCEPStandard", "POSTPKIOperation"]
        assert ca.url == f"http://127.0.0.1:{ca.port}/scep"
        assert ca.device_url == f"http://10.0.2.2:{ca.port}/scep"

        c = tmp_path / "client"
        r = scepclient(ca, ca.url, c, "dev-enrol", extra=["-ca-fingerprint", ca.ca_sha256])
        assert r.returncode == 0, r.stdout
        assert 'pkiStatus=SUCCESS msg="server returned a certificate."' in r.stdout
        assert_issued(ca, c / "client.pem", c / "key.pem", "dev-enrol")

        r = scepclient(ca, ca.url, tmp_path / "other", "dev-x", extra=["-ca-fingerprint", "00" * 32])
        assert r.returncode != 0 and "no selected CA/RA recipients" in r.stdout, r.stdout


def test_wrong_challenge_fails(scep_server):
    c = scep_server.dir / "client"
    r = scepclient(scep_server, scep_server.url, c, "dev-wrong", challenge="not-the-secret")
    assert r.returncode != 0
    assert "PKCSReq (19) request failed, failInfo: badRequest (2)" in r.stdout, r.stdout
    assert not (c / "client.pem").exists()
    assert 'msg="failed to sign CSR" err="invalid challenge"' in scep_server.server_log()


def test_stop_and_start(scep_server):
    ca = scep_server
    ca.stop()
    assert not ca.running
    r = ca.http(ca.url + "?operation=GetCACaps", timeout=2)
    assert r["status"] is None and "Connection refused" in r["error"], r
    r = scepclient(ca, ca.url, ca.dir / "down", "dev-down")
    assert r.returncode != 0 and "connection refused" in r.stdout, r.stdout
    ca.start()
    assert ca.running
    r = scepclient(ca, ca.url, ca.dir / "down", "dev-down")  # same directory: scepclient retries
    assert r.returncode == 0, r.stdout
    assert_issued(ca, ca.dir / "down" / "client.pem", ca.dir / "down" / "key.pem", "dev-down")


def test_namespace_has_only_lo_and_is_cleaned_up(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("not root: scepserver runs on the host (it listens on every interface)")
    ca = ScepServer(tmp_path / "scep")
    with ca:
        links = ca.run_in_ns(["ip", "-o", "link"]).stdout.splitlines()
        assert len(links) == 1 and re.match(r"1: lo: <LOOPBACK,UP,LOWER_UP>", links[0]), links
        assert os.readlink(f"/proc/{ca.ns_pid}/ns/net") != os.readlink("/proc/self/ns/net")
        server_pid, holder_pid = ca._server.pid, ca.ns_pid
        with socket.socket() as s:  # the host's loopback does not have the server
            s.settimeout(2)
            assert s.connect_ex(("127.0.0.1", ca.port)) != 0 or \
                "SCEPStandard" not in ca.http(ca.url)["body"].decode(errors="replace")
    for pid in (server_pid, holder_pid):
        assert not os.path.exists(f"/proc/{pid}") or \
            open(f"/proc/{pid}/stat").read().split()[2] == "Z", f"process {pid} still running"


def test_no_post_proxy(scep_server, tmp_path):
    ca = scep_server
    with ScepProxy(ca, no_post=True) as proxy:
        caps = ca.http(proxy.url + "?operation=GetCACaps")
        assert caps["status"] == 200
        assert caps["body"].decode().split("\n") == ["Renewal", "SHA-1", "SHA-256", "AES", "DES3"]

        # scepclient switches to GET, but sends base64url, which scepserver 2.1.0 refuses
        r = scepclient(ca, proxy.url, tmp_path / "sc", "dev-get")
        assert r.returncode != 0 and "illegal base64 data" in r.stdout, r.stdout
        pki = proxy.pki_requests()
        assert [(e["method"], e["message_type"], e["message_encoding"], e["http_status"]) for e in pki] == \
            [("GET", 19, "base64url", 500)], pki
        assert "POST" not in {e["method"] for e in proxy.requests()}

        # an RFC 8894 4.1 GET (base64, percent-encoded) goes through the proxy and enrols
        req = Requester("dev-get-std")
        msg, nonce = req.pkcs_req(ca.ca_der, CHALLENGE)
        q = urllib.parse.quote(base64.b64encode(msg).decode(), safe="")
        rep = ca.http(f"{proxy.url}?operation=PKIOperation&message={q}")
        assert rep["status"] == 200, rep
        info = parse_pki_message(rep["body"])
        assert (info["pki_status"], info["transaction_id"], info["recipient_nonce"]) == \
            ("0", req.transaction_id, nonce)
        key, signer = tmp_path / "req-key.pem", tmp_path / "req-signer.der"
        key.write_bytes(req.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
        signer.write_bytes(req.cert_der)
        signer_pem = tmp_path / "req-signer.pem"
        openssl("x509", "-inform", "DER", "-in", signer, "-out", signer_pem)
        cert = certrep_cert(tmp_path, ca, rep["body"], key, signer_pem, "get-std")
        assert_issued(ca, cert, key, "dev-get-std")
        last = proxy.pki_requests()[-1]
        assert (last["method"], last["message_encoding"], last["action"], last["pki_status"]) == \
            ("GET", "base64", "forwarded", "SUCCESS"), last

        # POST is refused while the caps hide it
        msg, _ = Requester("dev-post").pkcs_req(ca.ca_der, CHALLENGE)
        rep = ca.http(proxy.url + "?operation=PKIOperation", method="POST", data=msg)
        assert rep["status"] == 405, rep
        assert proxy.pki_requests()[-1]["action"].startswith("refused: POST")


def test_pending_then_success(scep_server, tmp_path):
    """pending=2: scepclient's PKCSReq gets PENDING; a CertPoll built here with scepclient's key gets
    PENDING, the next one SUCCESS."""
    ca = scep_server
    with ScepProxy(ca, pending=2) as proxy:
        assert any("manual approval" in n and "never answers PENDING" in n for n in proxy.notes())
        c = tmp_path / "sc"
        c.mkdir()
        client = ca.popen_in_ns(["scepclient", "-server-url", proxy.url, "-challenge", CHALLENGE,
                                 "-private-key", c / "key.pem", "-cn", "dev-pending", "-debug"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = LineReader(client)
        out.wait_for(r'pkiStatus=PENDING msg="sleeping for 30 seconds, then trying again\."', 15)

        [first] = proxy.pki_requests()
        assert (first["method"], first["message_type"], first["pki_status"]) == ("POST", 19, "PENDING"), first
        assert first["action"] == "PENDING (stand-in for a CA with manual approval)"
        tid = first["transaction_id"]

        # the PENDING CertRep: signed by the CA (openssl), SCEP attributes right (asn1crypto)
        pend = first["reply_file"]
        r = openssl("cms", "-verify", "-inform", "DER", "-in", pend, "-CAfile", ca.ca_cert_path,
                    "-purpose", "any", "-out", tmp_path / "pending-content")
        assert "CMS Verification successful" in r.stderr
        assert (tmp_path / "pending-content").read_bytes() == b""
        info = parse_pki_message(open(pend, "rb").read())
        assert info["message_type"] == 3 and info["pki_status"] == "3" and info["fail_info"] is None
        assert info["transaction_id"] == tid
        assert info["recipient_nonce"].hex() == first["sender_nonce"]
        assert len(info["sender_nonce"]) == 16 and info["sender_nonce"].hex() != first["sender_nonce"]
        assert info["envelope"] == b""
        assert (info["digest_algorithm"], info["signature_algorithm"]) == ("sha256", "sha256_rsa")
        assert info["certificates"] == [ca.ca_der]

        # CertPoll, signed with scepclient's key and signer certificate (self.pem)
        poller = Requester.load(c / "key.pem", c / "self.pem")
        csr = tmp_path / "csr.der"
        openssl("req", "-in", c / "csr.pem", "-outform", "DER", "-out", csr)
        subject_der = asn1_csr_subject(csr.read_bytes()).dump()
        poll, poll_nonce = poller.cert_poll(ca.ca_der, transaction_id=tid, subject_der=subject_der)

        # the CertPoll itself: its envelope opens with the CA key and holds IssuerAndSubject
        (tmp_path / "poll.der").write_bytes(poll)
        openssl("cms", "-verify", "-inform", "DER", "-in", tmp_path / "poll.der", "-noverify",
                "-out", tmp_path / "poll-env.der", "-binary")
        openssl("cms", "-decrypt", "-inform", "DER", "-in", tmp_path / "poll-env.der", "-inkey",
                ca.ca_key_path, "-recip", ca.ca_cert_path, "-out", tmp_path / "ias.der")
        ias = IssuerAndSubject.load((tmp_path / "ias.der").read_bytes())
        assert ias["subject"].native["common_name"] == "dev-pending"
        assert ias["issuer"].native["organization_name"] == "certwiz test CA"

        rep = ca.http(proxy.url + "?operation=PKIOperation", method="POST", data=poll)
        info = parse_pki_message(rep["body"])
        assert (info["pki_status"], info["transaction_id"], info["recipient_nonce"]) == ("3", tid, poll_nonce)

        poll, poll_nonce = poller.cert_poll(ca.ca_der, transaction_id=tid, subject_der=subject_der)
        rep = ca.http(proxy.url + "?operation=PKIOperation", method="POST", data=poll)
        info = parse_pki_message(rep["body"])
        assert (info["pki_status"], info["transaction_id"], info["recipient_nonce"]) == ("0", tid, poll_nonce)
        assert (info["digest_algorithm"], info["signature_algorithm"]) == ("sha256", "sha256_rsa")
        cert = certrep_cert(tmp_path, ca, rep["body"], c / "key.pem", c / "self.pem", "polled")
        assert_issued(ca, cert, c / "key.pem", "dev-pending")

        # a CertPoll for a transaction nobody started
        other, _ = Requester("stranger").cert_poll(ca.ca_der)
        rep = ca.http(proxy.url + "?operation=PKIOperation", method="POST", data=other)
        info = parse_pki_message(rep["body"])
        assert (info["pki_status"], info["fail_info"]) == ("2", "4")

        # scepclient would retry after its fixed 30 s; the CertPolls above already proved the
        # proxy's SUCCESS path, so it is stopped here (keeps the run short)
        client.kill()
        client.wait(timeout=10)
        log = proxy.pki_requests()
        assert [(e["message_type_name"], e["pki_status"]) for e in log] == [
            ("PKCSReq", "PENDING"), ("CertPoll", "PENDING"), ("CertPoll", "SUCCESS"),
            ("CertPoll", "FAILURE")], log
        # behind the scenes the real server issued exactly once
        assert ca.server_log().count('scep_message_type="PKCSReq (19)"') == 1


def test_pending_passes_refusals_on(scep_server):
    ca = scep_server
    with ScepProxy(ca, pending=1) as proxy:
        req = Requester("dev-refused")
        msg, _ = req.pkcs_req(ca.ca_der, "wrong")
        info = parse_pki_message(ca.http(proxy.url + "?operation=PKIOperation", method="POST", data=msg)["body"])
        assert (info["pki_status"], info["fail_info"]) == ("2", "2")  # the real FAILURE/badRequest
        msg, _ = Requester("dev-ok").pkcs_req(ca.ca_der, CHALLENGE)
        info = parse_pki_message(ca.http(proxy.url + "?operation=PKIOperation", method="POST", data=msg)["body"])
        assert info["pki_status"] == "3"
        assert [e["action"] for e in proxy.pki_requests()] == [
            "forwarded (the real CA did not issue: its answer is passed on)",
            "PENDING (stand-in for a CA with manual approval)"]


def test_drop_after(scep_server, tmp_path):
    ca = scep_server
    with ScepProxy(ca, drop_after=1) as proxy:
        c = tmp_path / "sc"
        r = scepclient(ca, proxy.url, c, "dev-drop")
        assert r.returncode != 0 and re.search(r'op=PKIOperation error=".*: EOF"', r.stdout), r.stdout
        assert ca.server_log().count('scep_message_type="PKCSReq (19)"') == 0  # never reached the CA
        r = scepclient(ca, proxy.url, c, "dev-drop")  # only number 1 is dropped
        assert r.returncode == 0, r.stdout
        assert_issued(ca, c / "client.pem", c / "key.pem", "dev-drop")
        assert [e["action"] for e in proxy.pki_requests()] == ["dropped (server gone mid-way)", "forwarded"]

    with ScepProxy(ca, drop_after=1, drop_forwarded=True, name="proxy2") as proxy:
        r = scepclient(ca, proxy.url, tmp_path / "sc2", "dev-lost")
        assert r.returncode != 0 and "EOF" in r.stdout, r.stdout
        assert ca.server_log().count('scep_message_type="PKCSReq (19)"') == 2  # issued, answer lost
        assert proxy.pki_requests()[0]["action"] == "dropped after forwarding (server gone mid-way)"


def test_device_reaches_server_and_proxy(scep_server):
    """The firmware started with server.start_device lives in the namespace: its slirp 10.0.2.2 is
    the namespace's loopback, where scepserver and the proxy listen."""
    from conftest import CERTWIZ
    if not CERTWIZ.exists():
        pytest.skip(f"{CERTWIZ} is not built (make)")
    ca = scep_server
    dev = ca.start_device()
    try:
        r = dev.cwctl("http", "get", ca.device_url + "?operation=GetCACaps")
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"connecting to 10.0.2.2:{ca.port}" in r.stdout and "status 200 OK" in r.stdout, r.stdout
        assert "content-length: 60" in r.stdout, r.stdout  # the full caps, POSTPKIOperation included
        with ScepProxy(ca, no_post=True) as proxy:
            r = dev.cwctl("http", "get", proxy.device_url + "?operation=GetCACaps")
            assert r.returncode == 0 and "content-length: 30" in r.stdout, r.stdout + r.stderr
            assert [(e["method"], e["operation"]) for e in proxy.requests()] == [("GET", "GetCACaps")]
    finally:
        rc, err = dev.stop()
    assert rc == 0, f"certwiz exited {rc}: {err}"
