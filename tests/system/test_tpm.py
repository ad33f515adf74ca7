"""certwiz on a TPM 2.0 token (issue 17): tpm2-pkcs11 on swtpm behind tpm2-abrmd
--max-transients=3 (as /dev/tpmrm0 allows), the lab of tests/lab/tpm-lab.sh that conftest.py
runs once per session (needs root). Each test gets a fresh token of that lab. The module is
always named by path, never taken from p11-kit's list. These tests are what only a TPM shows;
`make check` also runs the offline, SCEP and power-cut tests on the TPM (CW_TOKEN=tpm)."""
import json
import re
import os
import shutil
import subprocess

import pytest

from conftest import ROOT, TPM_MODULE, start_device
from offline_pki import OfflineCA, csr_of, topology_pem
from scep_fixture import ScepServer
from test_scep import site

pytestmark = pytest.mark.skipif(
    shutil.which("swtpm") is None or not os.path.exists(TPM_MODULE) or os.geteuid() != 0,
    reason="the TPM lab needs swtpm, tpm2-pkcs11 (make deps) and root")


class Lab:
    """A fresh token of the session's TPM lab, with the names these tests use."""

    def __init__(self, tok):
        self.tok = tok
        self.label, self.pin, self.pin_file, self.env = tok.label, tok.pin, tok.pin_file, tok.env

    def boot(self, *extra, start=start_device):
        return start(*self.tok.args(), *extra, env=self.env)

    def tool(self, *args):
        """pkcs11-tool on the token, logged in; returns stdout."""
        return self.tok.tool(*args)


@pytest.fixture
def lab(tpm_lab, tmp_path):
    tok = tpm_lab.new_token(tmp_path)
    yield Lab(tok)
    tpm_lab.remove_token(tok)


@pytest.fixture
def ca(tmp_path):
    return OfflineCA(tmp_path)


def with_set(key_type, name="big"):
    """A topology mutation adding a set of this key type on the offline profile."""
    def mutate(text):
        t = json.loads(text)
        t["sets"].append({"name": name, "roles": ["Big"], "caProfile": "public-offline",
                          "eku": ["serverAuth"], "keyType": key_type, "cn": "big.{domain}",
                          "san": [{"dns": "big.{domain}"}]})
        return json.dumps(t)
    return mutate


def test_topology_load_refuses_a_key_size_the_token_cannot_make(lab, ca, tmp_path):
    dev = lab.boot()
    try:
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        pem, _ = topology_pem(tmp_path, ca.root_sha256, mutate=with_set("rsa4096"))
        r = dev.cwctl("topology", "load", extra=("--input", str(pem)))
        assert r.returncode == 1
        assert "KEY_SIZE" in r.stderr
        assert "set big asks for RSA-4096 keys; this token makes RSA keys of 1024..3072 bits; topology refused, the stored one is unchanged" in r.stdout
        # nothing was written
        assert "certwiz." not in lab.tool("-O")
    finally:
        assert dev.stop()[0] == 0


def test_records_are_private_on_a_token_that_refuses_public_ones(lab, ca, tmp_path):
    """tpm2-pkcs11 refuses public data objects: the records are written private, read after the
    login; before it the device says "locked until login"; a reboot never writes a second
    certwiz.topology.1."""
    dev = lab.boot()
    try:
        # certwiz cannot tell a fresh token from one whose records are private until the login
        assert "topology: locked until login" in dev.cwctl("status").stdout
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        pem, _ = topology_pem(tmp_path, ca.root_sha256)
        r = dev.cwctl("topology", "load", extra=("--input", str(pem)))
        assert r.returncode == 0, r.stdout + r.stderr
        shown = dev.cwctl("topology", "show").stdout
        assert "set external" in shown
    finally:
        assert dev.stop()[0] == 0
    objs = lab.tool("-O")
    assert objs.count("certwiz.topology.") == 1 and "certwiz.topology.1" in objs
    dev = lab.boot()
    try:
        status = dev.cwctl("status").stdout
        assert "topology: locked until login" in status, status
        for cmd in (("roles",), ("topology", "show"), ("csr", "external")):
            r = dev.cwctl(*cmd)
            assert r.returncode == 1 and "locked until login" in r.stderr, (cmd, r.stdout, r.stderr)
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        assert dev.cwctl("topology", "show").stdout == shown
        assert "topology: edge01.contoso.com, 3 sets, 4 roles" in dev.cwctl("status").stdout
        assert dev.cwctl("roles").returncode == 0
    finally:
        assert dev.stop()[0] == 0
    objs = lab.tool("-O")
    assert objs.count("certwiz.topology.") == 1, objs


def test_request_refuses_a_key_size_the_token_cannot_make(lab, ca, tmp_path):
    """A topology stored by another tool (or loaded where the token made RSA-4096) still names
    RSA-4096: `request` says the size and the token's range before any key is made."""
    _, blob = topology_pem(tmp_path, ca.root_sha256, mutate=with_set("rsa4096"))
    der = tmp_path / "big.der"
    der.write_bytes(blob)
    lab.tool("--write-object", str(der), "--type", "data", "--label", "certwiz.topology.1",
             "--application-label", "certwiz", "--private")
    dev = lab.boot()
    try:
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        assert "set big" in dev.cwctl("topology", "show").stdout
        r = dev.cwctl("request", "big", "offline")
        assert r.returncode == 1 and "KEY_SIZE" in r.stderr, r.stdout + r.stderr
        assert "set big asks for RSA-4096 keys; this token makes RSA keys of 1024..3072 bits" in r.stdout
        assert "generating" not in r.stdout
    finally:
        assert dev.stop()[0] == 0
    assert "Private Key Object" not in lab.tool("-O")


def test_offline_ec_request_import_and_reboot_on_the_tpm(lab, ca, tmp_path):
    """The offline story on the TPM token: login, topology load, an EC P-256 request answered by
    `openssl ca`, import, a restart, roles; the key is sensitive and never extractable."""
    dev = lab.boot()
    try:
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        pem, _ = topology_pem(tmp_path, ca.root_sha256)
        r = dev.cwctl("topology", "load", extra=("--input", str(pem)))
        assert r.returncode == 0, r.stdout + r.stderr
        r = dev.cwctl("request", "oauth", "offline", timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        leaf = ca.sign(csr_of(r.stdout), "oauth")
        f = tmp_path / "answer.pem"
        f.write_text(ca.bundle(leaf, "int", "root"))
        r = dev.cwctl("import", "oauth", extra=("--paste", str(f)), timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "role OAuthTokenIssuer: set oauth, assigned" in dev.cwctl("roles").stdout
    finally:
        assert dev.stop()[0] == 0
    dev = lab.boot()
    try:
        assert "locked until login" in dev.cwctl("roles").stderr
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        roles = dev.cwctl("roles")
        assert roles.returncode == 0 and "role OAuthTokenIssuer: set oauth, assigned" in roles.stdout, roles.stdout
    finally:
        assert dev.stop()[0] == 0
    objs = lab.tool("-O")
    keys = [b for b in objs.split("\n\n") if "Private Key Object" in b]
    assert len(keys) == 1, objs
    assert "label:      oauth" in keys[0]
    assert "sensitive" in keys[0] and "never extractable" in keys[0], keys[0]
    assert "extractable" not in keys[0].replace("never extractable", ""), keys[0]
    assert objs.count("certwiz.topology.") == 1 and objs.count("certwiz.roles.") == 1, objs
    assert "certwiz.pending." not in objs


def private_keys(objs):
    """pkcs11-tool -O's blocks of the private keys (a block starts at an unindented line)."""
    return [b for b in re.split(r"\n(?=\S)", objs) if b.startswith("Private Key Object")]


def assert_sensitive(key_block):
    assert "sensitive" in key_block and "never extractable" in key_block, key_block
    assert "extractable" not in key_block.replace("never extractable", ""), key_block


def with_sets(*key_types):
    """A topology mutation adding set k0, k1, ... of these key types on the offline profile."""
    def mutate(text):
        t = json.loads(text)
        for i, key_type in enumerate(key_types):
            t["sets"].append({"name": f"k{i}", "roles": [f"K{i}"], "caProfile": "public-offline",
                              "eku": ["serverAuth"], "keyType": key_type, "cn": f"k{i}.{{domain}}",
                              "san": [{"dns": f"k{i}.{{domain}}"}]})
        return json.dumps(t)
    return mutate


KEY_TYPES = ("rsa2048", "rsa3072", "ecP256", "ecP384")


def test_four_offline_requests_of_every_key_type_in_one_login_behind_three_transients(lab, ca, tmp_path):
    """RSA-2048, RSA-3072, P-256 and P-384 requests answered by `openssl ca`, in one boot and one
    login: tpm2-pkcs11 keeps each key it made or used loaded until the next login, and behind
    /dev/tpmrm0's 3 transients two fit, so certwiz logs in afresh (with the PIN the operator gave
    at `login`) when the token says it has no room. A restart, then the roles; every key is
    sensitive and never extractable."""
    dev = lab.boot()
    try:
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        pem, _ = topology_pem(tmp_path, ca.root_sha256, mutate=with_sets(*KEY_TYPES))
        r = dev.cwctl("topology", "load", extra=("--input", str(pem)))
        assert r.returncode == 0, r.stdout + r.stderr
        for i, key_type in enumerate(KEY_TYPES):
            r = dev.cwctl("request", f"k{i}", "offline", timeout=120)
            assert r.returncode == 0, (key_type, r.stdout + r.stderr)
            leaf = ca.sign(csr_of(r.stdout), f"k{i}")
            f = tmp_path / f"k{i}.pem"
            f.write_text(ca.bundle(leaf, "int", "root"))
            r = dev.cwctl("import", f"k{i}", extra=("--paste", str(f)), timeout=120)
            assert r.returncode == 0, (key_type, r.stdout + r.stderr)
        status = dev.cwctl("status").stdout
        assert "logged in afresh" in status, status
        print(next(line for line in status.splitlines() if "afresh" in line))
    finally:
        assert dev.stop()[0] == 0
    dev = lab.boot()
    try:
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        roles = dev.cwctl("roles").stdout
        for i in range(len(KEY_TYPES)):
            assert f"role K{i}: set k{i}, assigned" in roles, roles
    finally:
        assert dev.stop()[0] == 0
    keys = private_keys(lab.tool("-O"))
    assert sorted(re.search(r"label:\s+(\S+)", k).group(1) for k in keys) == ["k0", "k1", "k2", "k3"], keys
    for k in keys:
        assert_sensitive(k)


SCEP_CHALLENGE = "s3cret-Challenge"


def test_scep_enrolments_and_renewals_in_one_boot_behind_three_transients(lab, tmp_path):
    """Two online enrolments against scepserver (the TPM decrypts each CertRep), then both sets
    renewed with key rollover (a new key, the RenewalReq signed by the old one): six key uses
    over four key generations in one boot and one login, behind 3 transients."""
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=SCEP_CHALLENGE) as ca:
        dev = lab.boot(start=ca.start_device)
        ch = tmp_path / "challenge"
        ch.write_text(SCEP_CHALLENGE + "\n")
        try:
            assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
            r = dev.cwctl("topology", "load", str(site(tmp_path, ca.device_url, sets=("web", "mail"))))
            assert r.returncode == 0, r.stdout + r.stderr
            assert dev.cwctl("ca", "auth", "--profile", "lab", "--yes").returncode == 0
            r = dev.cwctl("request", "all", "online", extra=("--challenge-file", str(ch)), timeout=180)
            assert r.returncode == 0 and "summary: 2 enrolled" in r.stdout, r.stdout + r.stderr
            before = {re.search(r"ID:\s+(\S+)", b).group(1) for b in private_keys(lab.tool("-O"))}
            for s in ("web", "mail"):
                r = dev.cwctl("renew", "--set", s, extra=("--challenge-file", str(ch)), timeout=180)
                assert r.returncode == 0 and "RenewalReq sent" in r.stdout, r.stdout + r.stderr
            roles = dev.cwctl("roles").stdout
            assert "role Web: set web, assigned" in roles and "role Mail: set mail, assigned" in roles, roles
            assert "logged in afresh" in dev.cwctl("status").stdout
        finally:
            assert dev.stop()[0] == 0
    keys = private_keys(lab.tool("-O"))
    assert len(keys) == 2, keys
    after = {re.search(r"ID:\s+(\S+)", b).group(1) for b in keys}
    assert not after & before  # both rolled over; the old keys are gone
    for k in keys:
        assert_sensitive(k)


def test_the_tpm_global_lockout_is_named_and_status_says_logged_out(lab, ca, tmp_path, tpm_lab):
    """Three wrong PINs on another token of the same TPM (from another program) lock every PIN of
    the chip: the dictionary-attack counter is one for the whole TPM. The logged-in device's next
    key generation fails; certwiz's fresh login then meets CKR_PIN_LOCKED, says so by name, and
    status no longer says "logged in". After the lockout is cleared, a login works again."""
    dev = lab.boot()
    try:
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        pem, _ = topology_pem(tmp_path, ca.root_sha256, mutate=with_sets("ecP256", "ecP256"))
        assert dev.cwctl("topology", "load", extra=("--input", str(pem))).returncode == 0
        assert dev.cwctl("request", "k0", "offline").returncode == 0
        other = tpm_lab.env["TPM_LAB_LABEL2"]
        for _ in range(3):
            r = subprocess.run(["pkcs11-tool", "--module", TPM_MODULE, "--token-label", other, "--login",
                                "--pin", "0000", "-O"], env=lab.env, capture_output=True, text=True)
            assert r.returncode != 0
        r = dev.cwctl("request", "k1", "offline")
        assert r.returncode == 1 and "CKR_PIN_LOCKED" in r.stderr, r.stdout + r.stderr
        assert "a TPM locks them all for a while" in r.stderr
        status = dev.cwctl("status").stdout
        assert "user logged out" in status and "user logged in" not in status, status
        r = dev.cwctl("login", pin_file=lab.pin_file)
        assert r.returncode == 1 and "CKR_PIN_LOCKED" in r.stderr, r.stdout + r.stderr
        tpm_lab.in_ns("tpm2_dictionarylockout", "--clear-lockout")
        assert dev.cwctl("login", pin_file=lab.pin_file).returncode == 0
        assert "user logged in" in dev.cwctl("status").stdout
        assert dev.cwctl("request", "k1", "offline").returncode == 0
    finally:
        tpm_lab.in_ns("tpm2_dictionarylockout", "--clear-lockout")
        assert dev.stop()[0] == 0


def test_make_demo_token_tpm_runs_the_whole_demo_on_a_tpm(tmp_path):
    """`make demo TOKEN=tpm`: the README's demo (offline and SCEP enrolment, import, renew with key
    rollover, reboot) on a TPM lab of its own. Its renew once failed here: the new key and the old
    signing key were the third and fourth key loaded in one login."""
    env = {**os.environ, "CW_DEMO_TOKEN": "tpm", "CW_BUILD": str(ROOT / os.environ.get("CW_BUILD", "build/host"))}
    log = tmp_path / "demo.log"
    with open(log, "w") as f:  # the lab's daemons keep inherited descriptors: a file, not a pipe
        r = subprocess.run([str(ROOT / "tools/demo.sh")], stdin=subprocess.DEVNULL, stdout=f, stderr=f,
                           env=env, timeout=600)
    out = log.read_text()
    assert r.returncode == 0, out[-3000:]
    assert "RenewalReq sent" in out and "demo: done on the TPM token" in out, out[-3000:]
