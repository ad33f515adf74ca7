"""Online enrolment over SCEP (issue 7) against the real micromdm scepserver 2.1.0 (Debian's
`scep`), with the firmware in the server's private network namespace (as root; on loopback
otherwise). Results are checked with openssl and pkcs11-tool on the real SoftHSM2 token.

Where the real server cannot do what a test needs (answer PENDING, lose a connection, hide
POSTPKIOperation), the ScepProxy of scep_fixture.py stands between device and server and says so:
it stands in for a CA with manual approval, or a network that drops a request.
"""
import contextlib
import datetime
import re
import subprocess
import time

import pytest

from conftest import compile_topology
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID
from scep_fixture import ScepProxy, ScepServer, load_private_key

CHALLENGE = "s3cret-Challenge"


def site(tmp, url, pin=None, sets=("web",), other_url=None):
    """A topology with SCEP profile `lab` at url (poll every 10 s); sets ask for clientAuth, the
    only EKU scepserver issues. other_url adds profile `gone` with a set `late` that uses it."""
    profiles = [{"name": "lab", "protocol": "scep", "url": url, "pollSeconds": 10}]
    if pin:
        profiles[0]["caFingerprint"] = pin
    doc = {
        "version": 1,
        "appliance": {"host": "edge01.example.com", "site": "lab", "addresses": ["10.0.2.15"]},
        "subject": {"organization": "certwiz test", "country": "US"},
        "domains": ["example.com"],
        "caProfiles": profiles,
        "sets": [{"name": s, "roles": [s.capitalize()], "caProfile": "lab", "eku": ["clientAuth"],
                  "cn": f"{s}.{{domain}}"} for s in sets],
    }
    if other_url:
        profiles.append({"name": "gone", "protocol": "scep", "url": other_url})
        doc["sets"].append({"name": "late", "roles": ["Late"], "caProfile": "gone", "eku": ["clientAuth"],
                            "cn": "late.{domain}"})
    return compile_topology(doc, tmp)


def colon_fp(sha256_hex):
    return ":".join(sha256_hex[i:i + 2] for i in range(0, 64, 2)).upper()


class Edge:
    """certwiz in the CA's namespace with a fresh token, logged in, a topology loaded."""

    def __init__(self, ca, token, tmp):
        self.ca, self.token, self.tmp = ca, token, tmp
        self.challenge_file = tmp / "challenge"
        self.challenge_file.write_text(CHALLENGE + "\n")
        self.boot()

    def boot(self):
        self.dev = self.ca.start_device(*self.token.args(), env=self.token.env)
        r = self.dev.cwctl("login", pin_file=self.token.pin_file)
        assert r.returncode == 0, r.stderr

    def cw(self, *args, challenge_file=None, extra=(), timeout=120):
        ch = challenge_file or self.challenge_file
        r = self.dev.cwctl(*args, extra=("--challenge-file", str(ch), *extra), timeout=timeout)
        assert CHALLENGE not in r.stdout + r.stderr
        return r

    def load(self, der):
        r = self.cw("topology", "load", str(der))
        assert r.returncode == 0, r.stderr

    def auth(self):
        r = self.cw("ca", "auth", "--profile", "lab", "--yes")
        assert r.returncode == 0, r.stdout + r.stderr
        return r

    def stop(self):
        rc, err = self.dev.stop()
        assert rc == 0, err


@pytest.fixture
def lab(tmp_path, token):
    """(ca, edge): an RSA-2048 scepserver and a device, topology pointing at the server."""
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=CHALLENGE) as ca:
        edge = Edge(ca, token, tmp_path)
        edge.load(site(tmp_path, ca.device_url))
        try:
            yield ca, edge
        finally:
            edge.stop()


@contextlib.contextmanager
def proxied_lab(tmp_path, token, **proxy_options):
    """(ca, proxy, edge): an RSA-2048 scepserver behind a ScepProxy with proxy_options, and a
    device whose topology points at the proxy and whose CA is authenticated."""
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=CHALLENGE) as ca, \
            ScepProxy(ca, **proxy_options) as proxy:
        edge = Edge(ca, token, tmp_path)
        try:
            edge.load(site(tmp_path, proxy.device_url))
            edge.auth()
            yield ca, proxy, edge
        finally:
            edge.stop()


def token_objects(token):
    """(class, label, id) of every object in the token (pkcs11-tool -O, logged in)."""
    out = token.tool("-O")
    found = []
    for block in re.split(r"\n(?=\S)", out):
        kind = block.split(";")[0].split(" Object")[0].strip()
        label = re.search(r"label:\s+'?([^'\n]*)'?", block)
        oid = re.search(r"ID:\s+([0-9a-f]+)", block)
        found.append((kind, label.group(1) if label else "", oid.group(1) if oid else ""))
    return found


def set_objects(token, name):
    return sorted((k, i) for k, label, i in token_objects(token) if label == name)


def check_issued(ca, token, tmp, name):
    """The set's certificate is in the token beside its key, verifies with the CA, and its
    public key is the token key's. Returns the CKA_ID."""
    objs = set_objects(token, name)
    ids = {i for _, i in objs}
    assert len(ids) == 1, objs
    kinds = sorted(k for k, _ in objs)
    assert kinds == ["Certificate", "Private Key", "Public Key"], objs
    cid = ids.pop()
    cert = tmp / f"{name}.der"
    token.tool("--read-object", "--type", "cert", "--id", cid, "-o", str(cert))
    pem = subprocess.run(["openssl", "x509", "-inform", "DER", "-in", str(cert)], capture_output=True,
                         text=True, check=True).stdout
    (tmp / f"{name}.pem").write_text(pem)
    r = subprocess.run(["openssl", "verify", "-CAfile", str(ca.ca_cert_path), "-purpose", "sslclient",
                        str(tmp / f"{name}.pem")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    pub = tmp / f"{name}.pub.der"
    token.tool("--read-object", "--type", "pubkey", "--id", cid, "-o", str(pub))
    cert_spki = subprocess.run(["openssl", "x509", "-in", str(tmp / f"{name}.pem"), "-pubkey", "-noout"],
                               capture_output=True, text=True, check=True).stdout
    key_spki = subprocess.run(["openssl", "pkey", "-pubin", "-inform", "DER", "-in", str(pub)],
                              capture_output=True, text=True, check=True).stdout
    assert cert_spki == key_spki
    return cid


# ---- enrolment --------------------------------------------------------------------------------

@pytest.mark.parametrize("ca_bits", [2048, 4096])
def test_enrol_set_against_scepserver(tmp_path, token, ca_bits):
    with ScepServer(tmp_path / "scep", key_size=ca_bits, challenge=CHALLENGE) as ca:
        edge = Edge(ca, token, tmp_path)
        try:
            edge.load(site(tmp_path, ca.device_url, pin=colon_fp(ca.ca_sha256)))
            r = edge.auth()
            assert "matches the fingerprint the topology pins" in r.stdout
            r = edge.cw("request", "--set", "web", "--online")
            assert r.returncode == 0, r.stdout + r.stderr
            for step in ("CA capabilities read; using AES-128-CBC, SHA-256, POST", "key pair generated",
                         "PKCSReq sent", "reply verified: SUCCESS", "certificate checked",
                         "role Web assigned to set web", "set web: done in"):
                assert step in r.stdout, (step, r.stdout)
            check_issued(ca, token, tmp_path, "web")
            roles = edge.cw("roles").stdout
            assert "role Web: set web, assigned" in roles
            assert "CN=web.example.com" in roles
            # nothing is left pending, and the challenge is nowhere in the token
            assert not [o for o in token_objects(token) if o[1].startswith("certwiz.pending")]
        finally:
            edge.stop()


def test_wrong_challenge_is_refused_by_name_and_stores_nothing(lab, tmp_path, token):
    ca, edge = lab
    edge.auth()
    before = token_objects(token)
    bad = tmp_path / "bad"
    bad.write_text("not-the-challenge\n")
    r = edge.cw("request", "--set", "web", "--online", challenge_file=bad)
    assert r.returncode == 1
    assert "SCEP_BAD_REQUEST" in r.stderr
    assert "the CA refused the request (SCEP_BAD_REQUEST); its key is removed" in r.stdout
    assert token_objects(token) == before
    assert "invalid challenge" in ca.server_log().lower()


def test_no_enrolment_before_ca_auth(lab, token):
    ca, edge = lab
    r = edge.cw("request", "--set", "web", "--online")
    assert r.returncode == 1 and "SCEP_NOT_AUTHENTICATED" in r.stderr
    assert set_objects(token, "web") == []


def test_pinned_fingerprint_mismatch_is_refused_before_any_request(tmp_path, token):
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=CHALLENGE) as ca, ScepProxy(ca) as proxy:
        edge = Edge(ca, token, tmp_path)
        try:
            edge.load(site(tmp_path, proxy.device_url, pin=colon_fp("ab" * 32)))
            r = edge.cw("ca", "auth", "--profile", "lab", "--yes")
            assert r.returncode == 1 and "IMPORT_PIN_MISMATCH" in r.stderr
            assert ca.ca_sha256.lower() in r.stdout.replace(":", "").lower()
            r = edge.cw("request", "--set", "web", "--online")
            assert r.returncode == 1 and "SCEP_NOT_AUTHENTICATED" in r.stderr
            assert proxy.pki_requests() == []
            assert [o for o in token_objects(token) if o[1] in ("web", "ca:lab")] == []
        finally:
            edge.stop()


def test_a_server_that_changes_its_ca_after_auth_is_refused(lab, token):
    """ca auth stored one CA; the server comes back with a new CA in the same depot (a rebuilt or
    impostor server at the same URL): enrolment stops before any key is made."""
    ca, edge = lab
    edge.auth()
    ca.stop()
    for f in ca.depot.iterdir():
        f.unlink()
    subprocess.run(["scepserver", "ca", "-init", "-depot", str(ca.depot), "-keySize", "2048"],
                   check=True, capture_output=True)
    ca.start()
    r = edge.cw("request", "--set", "web", "--online")
    assert r.returncode == 1 and "SCEP_CA_CHANGED" in r.stderr, r.stdout + r.stderr
    assert set_objects(token, "web") == []
    assert 'scep_message_type="PKCSReq (19)"' not in ca.server_log()


def test_unpinned_ca_needs_the_operators_yes(lab, tmp_path, token):
    ca, edge = lab
    no = tmp_path / "no"
    no.write_text("no\n")
    r = edge.cw("ca", "auth", "--profile", "lab", extra=("--input", str(no)))
    assert r.returncode == 1 and "CANCELLED" in r.stderr
    assert "Accept this CA certificate? (yes/no)" in r.stderr + r.stdout
    assert [o for o in token_objects(token) if o[1] == "ca:lab"] == []
    r = edge.auth()
    assert "CA certificate stored and trusted for profile lab" in r.stdout
    assert [o[0] for o in token_objects(token) if o[1] == "ca:lab"] == ["Certificate"]


def ca_ra_bundle(tmp_path, ca, ra_issuer_is_ca=True, valid_days=(-1, 30)):
    """A GetCACert answer (degenerate PKCS#7, DER) of the server's CA and an RA certificate for
    signing and encryption, valid from valid_days[0] to valid_days[1] days from now, issued by
    that CA or, with ra_issuer_is_ca False, by another CA."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_cert = cx509.load_pem_x509_certificate(ca.ca_cert_path.read_bytes())
    issuer_cert, issuer_key = ca_cert, load_private_key(ca.ca_key_path)
    if not ra_issuer_is_ca:
        issuer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        other = cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "another CA")])
        issuer_cert = (cx509.CertificateBuilder().subject_name(other).issuer_name(other)
                       .public_key(issuer_key.public_key()).serial_number(1)
                       .not_valid_before(now - datetime.timedelta(days=1))
                       .not_valid_after(now + datetime.timedelta(days=30))
                       .add_extension(cx509.BasicConstraints(ca=True, path_length=None), critical=True)
                       .sign(issuer_key, hashes.SHA256()))
    ra_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ra = (cx509.CertificateBuilder()
          .subject_name(cx509.Name([cx509.NameAttribute(NameOID.COMMON_NAME, "lab RA")]))
          .issuer_name(issuer_cert.subject).public_key(ra_key.public_key()).serial_number(77)
          .not_valid_before(now + datetime.timedelta(days=valid_days[0]))
          .not_valid_after(now + datetime.timedelta(days=valid_days[1]))
          .add_extension(cx509.BasicConstraints(ca=False, path_length=None), critical=True)
          .add_extension(cx509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                        data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                        crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(issuer_key, hashes.SHA256()))
    out = tmp_path / "cacert-ra.p7"
    out.write_bytes(pkcs7.serialize_certificates([ca_cert, ra], serialization.Encoding.DER))
    return out


@contextlib.contextmanager
def ra_lab(tmp_path, token, **bundle_options):
    """(proxy, edge): an RSA-2048 scepserver behind a ScepProxy that answers GetCACert with
    ca_ra_bundle(**bundle_options), and a device whose topology points at the proxy; the CA is
    not authenticated yet."""
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=CHALLENGE) as ca, \
            ScepProxy(ca, cacert_file=ca_ra_bundle(tmp_path, ca, **bundle_options)) as proxy:
        edge = Edge(ca, token, tmp_path)
        try:
            edge.load(site(tmp_path, proxy.device_url))
            yield proxy, edge
        finally:
            edge.stop()


def test_ca_auth_with_an_ra_issued_by_the_ca(tmp_path, token):
    """RFC 8894 2.2: a CA may answer through an RA. micromdm scepserver has none, so the proxy
    serves GetCACert with an RA certificate the CA issued (the fixture says so in its log);
    ca auth checks that it chains to the CA and trusts the CA."""
    with ra_lab(tmp_path, token) as (proxy, edge):
        r = edge.auth()
        assert "RA (signs replies): CN=lab RA" in r.stdout
        assert "RA (receives requests): CN=lab RA" in r.stdout
        assert "CA certificate stored and trusted for profile lab" in r.stdout
        assert [o[0] for o in token_objects(token) if o[1] == "ca:lab"] == ["Certificate"]
        assert any("stands in for a CA with an RA" in n for n in proxy.notes())


def test_ca_auth_refuses_an_ra_the_ca_did_not_issue(tmp_path, token):
    """The same, with an RA certificate from another CA: refused, nothing stored."""
    with ra_lab(tmp_path, token, ra_issuer_is_ca=False) as (proxy, edge):
        r = edge.cw("ca", "auth", "--profile", "lab", "--yes")
        assert r.returncode == 1 and "IMPORT_UNTRUSTED" in r.stderr, r.stdout + r.stderr
        assert [o for o in token_objects(token) if o[1] == "ca:lab"] == []
        assert proxy.pki_requests() == []


@pytest.mark.parametrize("valid_days,error", [((-30, -1), "IMPORT_EXPIRED"), ((1, 30), "IMPORT_NOT_YET_VALID")])
def test_ca_auth_refuses_an_ra_outside_its_validity(tmp_path, token, valid_days, error):
    """An RA certificate the CA issued, but expired or not valid yet by the device's clock:
    refused, nothing stored."""
    with ra_lab(tmp_path, token, valid_days=valid_days) as (proxy, edge):
        r = edge.cw("ca", "auth", "--profile", "lab", "--yes")
        assert r.returncode == 1 and error in r.stderr, r.stdout + r.stderr
        assert [o for o in token_objects(token) if o[1] == "ca:lab"] == []


SCEP_REPLY_MAX = 12288  # CW_SCEP_REPLY_MAX on the host board: the buffer each SCEP answer goes to


@pytest.mark.parametrize("size, error", [(SCEP_REPLY_MAX + 1, "HTTP_TOO_LARGE"), (SCEP_REPLY_MAX, "TOO_LARGE")])
def test_ca_auth_refuses_a_getcacert_answer_over_its_buffers(tmp_path, token, size, error):
    """SCEP keeps its bounded buffers (`http get` streams its bodies, SCEP does not): a GetCACert
    answer one byte over the response buffer (CW_SCEP_REPLY_MAX) is refused by the HTTP client
    with HTTP_TOO_LARGE; one that fills it is received and then refused by the next bound, the CA
    certificates' buffer (CW_SCEP_CACERT_MAX, 8 KiB): TOO_LARGE. Nothing is stored either way.
    The answer is the CA certificate padded with zeros."""
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=CHALLENGE) as ca:
        answer = tmp_path / "cacert-padded.der"
        der = cx509.load_pem_x509_certificate(ca.ca_cert_path.read_bytes()).public_bytes(serialization.Encoding.DER)
        answer.write_bytes(der + bytes(size - len(der)))
        with ScepProxy(ca, cacert_file=answer) as proxy:
            edge = Edge(ca, token, tmp_path)
            try:
                edge.load(site(tmp_path, proxy.device_url))
                r = edge.cw("ca", "auth", "--profile", "lab", "--yes")
                assert r.returncode == 1, r.stdout + r.stderr
                assert f"cwctl: {error}: " in r.stderr, r.stdout + r.stderr
                assert [o for o in token_objects(token) if o[1] == "ca:lab"] == []
                assert [e["operation"] for e in proxy.requests()][-1] == "GetCACert"
            finally:
                edge.stop()


def test_get_when_post_is_not_offered(tmp_path, token):
    with proxied_lab(tmp_path, token, no_post=True) as (ca, proxy, edge):
        r = edge.cw("request", "--set", "web", "--online")
        assert r.returncode == 0, r.stdout + r.stderr
        assert ", GET" in r.stdout
        pki = proxy.pki_requests()
        assert [(e["method"], e["message_type_name"]) for e in pki] == [("GET", "PKCSReq")]
        check_issued(ca, token, tmp_path, "web")


# ---- failures on the way ----------------------------------------------------------------------

def test_server_down_is_a_named_network_error_and_nothing_is_made(lab, token):
    ca, edge = lab
    edge.auth()
    ca.stop()
    r = edge.cw("request", "--set", "web", "--online")
    assert r.returncode == 1 and "HTTP_REFUSED" in r.stderr
    assert set_objects(token, "web") == []
    ca.start()
    r = edge.cw("request", "--set", "web", "--online")
    assert r.returncode == 0, r.stdout + r.stderr


def test_connection_lost_mid_way_leaves_the_request_pending_and_it_is_sent_again(tmp_path, token):
    with proxied_lab(tmp_path, token, drop_after=1) as (ca, proxy, edge):
        r = edge.cw("request", "--set", "web", "--online")
        assert r.returncode == 1 and "HTTP_CLOSED" in r.stderr, r.stdout + r.stderr
        assert "the request stays pending" in r.stdout
        # consistent: the key and the pending record, no certificate, roles pending
        assert sorted(k for k, _ in set_objects(token, "web")) == ["Private Key", "Public Key"]
        pend = [o for o in token_objects(token) if o[1] == "certwiz.pending.web"]
        assert len(pend) == 1
        assert "role Web: set web, pending" in edge.cw("roles").stdout
        # the challenge is not in the stored record
        rec = tmp_path / "pending.der"
        token.tool("--read-object", "--type", "data", "--label", "certwiz.pending.web", "-o", str(rec))
        assert CHALLENGE.encode() not in rec.read_bytes()
        r = edge.cw("request", "--set", "web", "--online")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "sending the unanswered request again" in r.stdout
        pki = proxy.pki_requests()
        assert len(pki) == 2 and pki[0]["transaction_id"] == pki[1]["transaction_id"]
        check_issued(ca, token, tmp_path, "web")


def test_request_all_keeps_what_succeeded_when_a_later_set_fails(tmp_path, token):
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=CHALLENGE) as ca:
        edge = Edge(ca, token, tmp_path)
        try:
            edge.load(site(tmp_path, ca.device_url, sets=("web", "vpn"),
                           other_url="http://10.0.2.2:9/scep"))
            edge.auth()
            r = edge.cw("request", "--all", "--online")
            assert r.returncode == 1 and "SCEP_NOT_AUTHENTICATED" in r.stderr
            assert "summary: 2 enrolled, 0 pending, 1 failed" in r.stdout
            for s in ("web", "vpn"):
                check_issued(ca, token, tmp_path, s)
            roles = edge.cw("roles").stdout
            assert "role Web: set web, assigned" in roles and "role Vpn: set vpn, assigned" in roles
            assert "role Late: set late, none" in roles
            # a second run has nothing to do and asks for no challenge
            r = edge.dev.cwctl("request", "all", "online")
            assert "set web: has a valid certificate; skipped" in r.stdout
        finally:
            edge.stop()


# ---- renewal ----------------------------------------------------------------------------------

def test_renew_rolls_the_set_over_to_a_new_key_and_certificate(lab, tmp_path, token):
    ca, edge = lab
    edge.auth()
    assert edge.cw("request", "--set", "web", "--online").returncode == 0
    old = check_issued(ca, token, tmp_path, "web")
    r = edge.cw("renew", "--set", "web")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "RenewalReq sent" in r.stdout
    new = check_issued(ca, token, tmp_path, "web")
    assert new != old
    # the old certificate and key are gone; the roles use the new ones
    assert all(i == new for _, i in set_objects(token, "web"))
    keys = edge.cw("keys").stdout
    assert new in keys and old not in keys


# ---- PENDING -----------------------------------------------------------------------------------

def test_pending_is_polled_on_request_and_completes(tmp_path, token):
    """The proxy stands in for a CA with manual approval (the real server never answers
    PENDING): two PENDING answers, then the real server's certificate."""
    with proxied_lab(tmp_path, token, pending=2) as (ca, proxy, edge):
        r = edge.cw("request", "--set", "web", "--online")
        assert r.returncode == 1 and "SCEP_PENDING" in r.stderr
        assert "the CA holds the request for approval (PENDING)" in r.stdout
        assert re.search(r"scep: set web held by the CA; next poll in \d+ s", edge.cw("status").stdout)
        # held: the next request polls, asking no challenge
        r = edge.dev.cwctl("request", "web", "online")
        assert "CertPoll sent" in r.stdout and "SCEP_PENDING" in r.stderr
        r = edge.dev.cwctl("request", "web", "online")
        assert r.returncode == 0, r.stdout + r.stderr
        assert [e["message_type_name"] for e in proxy.pki_requests()] == ["PKCSReq", "CertPoll", "CertPoll"]
        check_issued(ca, token, tmp_path, "web")


def test_pending_survives_a_reboot_and_is_polled_in_the_background(tmp_path, token):
    """The proxy stands in for a CA with manual approval: the first answer is PENDING. The device
    reboots; after the login it polls by itself at the profile's interval (10 s)."""
    with proxied_lab(tmp_path, token, pending=1) as (ca, proxy, edge):
        r = edge.cw("request", "--set", "web", "--online")
        assert "SCEP_PENDING" in r.stderr
        edge.stop()
        edge.boot()
        assert "scep: set web held by the CA" in edge.cw("status").stdout
        deadline = time.monotonic() + 45
        roles = ""
        seen = []  # the device's scep: lines while it waits
        while time.monotonic() < deadline:
            roles = edge.cw("roles").stdout
            if "role Web: set web, assigned" in roles:
                break
            seen += [line for line in edge.cw("status").stdout.splitlines() if line.startswith("scep:")]
            time.sleep(1)
        assert "role Web: set web, assigned" in roles, roles
        sent = [e["message_type_name"] for e in proxy.pki_requests()]
        # One poll, usually. A background poll gives way to any console command (decisions.md 18;
        # docs/scep.md: the scratch is the command's) and is sent again 2 s later, and this loop
        # sends `roles` and `status` every second: on a slow token (the TPM decrypts the CertRep
        # in a few hundred ms) a command can land while the poll runs, and a second CertPoll
        # follows, as SCEP allows. So: at least one CertPoll, nothing else.
        assert sent[0] == "PKCSReq" and sent[1:] and set(sent[1:]) == {"CertPoll"}, (sent, seen)
        if len(sent) > 2:
            print(f"{len(sent) - 1} polls: {seen} {proxy.pki_requests()}")
        check_issued(ca, token, tmp_path, "web")
        assert "scep:" not in edge.cw("status").stdout


# ---- hostile answers (issue 15) -----------------------------------------------------------------

def test_a_ca_certificate_for_the_key_is_refused_over_scep_too(tmp_path, token):
    """The proxy stands in for a hostile CA: its CertRep SUCCESS carries a CA certificate
    (basicConstraints cA, keyCertSign) for the requester's key, signed by the authenticated CA.
    The same checks as an offline import refuse it, by name; nothing is stored or assigned."""
    with proxied_lab(tmp_path, token, hostile_leaf=True) as (ca, proxy, edge):
        r = edge.cw("request", "--set", "web", "--online")
        assert r.returncode == 1 and "IMPORT_NOT_END_ENTITY" in r.stderr, r.stdout + r.stderr
        assert "reply verified: SUCCESS" in r.stdout
        assert [k for k, _ in set_objects(token, "web") if k == "Certificate"] == []
        assert "role Web: set web, pending" in edge.cw("roles").stdout


def test_a_replayed_certrep_during_renew_is_no_answer_and_the_request_is_kept(tmp_path, token):
    """The proxy stands in for an attacker who replays the CA's earlier answer to the RenewalReq:
    authentic, but for another transaction. certwiz says the reply failed authentication, takes
    nothing from it, keeps the new key and its RenewalReq, and sends the same transaction again."""
    with proxied_lab(tmp_path, token, replay_renewal=True) as (ca, proxy, edge):
        assert edge.cw("request", "--set", "web", "--online").returncode == 0
        old = check_issued(ca, token, tmp_path, "web")
        r = edge.cw("renew", "--set", "web")
        assert r.returncode == 1 and "SCEP_TRANSACTION" in r.stderr, r.stdout + r.stderr
        assert "the reply failed authentication: not the CA's answer" in r.stdout
        assert "the request stays pending with its key; renew web sends or polls it again" in r.stdout
        # the roles still use the old certificate; the new key waits with its RenewalReq
        assert "role Web: set web, assigned" in edge.cw("roles").stdout
        assert len([k for k, _ in set_objects(token, "web") if k == "Private Key"]) == 2
        r = edge.cw("renew", "--set", "web")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "sending the unanswered request again" in r.stdout or "renewing" in r.stdout
        renewals = [e for e in proxy.pki_requests() if e["message_type_name"] == "RenewalReq"]
        assert len(renewals) == 2 and renewals[0]["transaction_id"] == renewals[1]["transaction_id"]
        new = check_issued(ca, token, tmp_path, "web")
        assert new != old


def test_an_enrolment_against_an_rsa4096_ca_makes_few_token_calls(tmp_path, token):
    """Random bytes come from the token in draws of 128 (mbedTLS asks for the envelope's padding
    one byte at a time: that was about 500 C_GenerateRandom calls, and the enrolment about 700
    token calls in all; now about 210, most of them reading objects). `mem` counts the calls."""
    with ScepServer(tmp_path / "scep", key_size=4096, challenge=CHALLENGE) as ca:
        edge = Edge(ca, token, tmp_path)
        try:
            edge.load(site(tmp_path, ca.device_url))
            edge.auth()

            def calls():
                return int(re.search(r"^token calls: (\d+) since boot$", edge.cw("mem").stdout, re.M).group(1))

            before = calls()
            r = edge.cw("request", "--set", "web", "--online")
            assert r.returncode == 0, r.stdout + r.stderr
            used = calls() - before
            print(f"token calls of an enrolment against an RSA-4096 CA: {used}")
            assert used < 300, used
        finally:
            edge.stop()
