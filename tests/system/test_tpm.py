"""certwiz on a TPM 2.0 token (issue 17): tpm2-pkcs11 on swtpm behind tpm2-abrmd, the lab of
tests/lab/tpm-lab.sh (a network namespace of its own; needs root). The firmware runs inside the
lab's namespace through nsenter (which execs it, so signals reach certwiz); cwctl drives its pty
from outside. The module is always named by path, never taken from p11-kit's list."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, start_device
from offline_pki import OfflineCA, csr_of, topology_pem

LAB = ROOT / "tests/lab/tpm-lab.sh"
TPM_MODULE = "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so"

pytestmark = pytest.mark.skipif(
    shutil.which("swtpm") is None or not os.path.exists(TPM_MODULE) or os.geteuid() != 0,
    reason="the TPM lab needs swtpm, tpm2-pkcs11 (make deps) and root")


class Lab:
    """A running TPM lab in its own directory: its environment and namespace."""

    def __init__(self, path):
        self.dir = path
        # the lab's daemons keep inherited descriptors: no pipes, or the call waits for them
        path.mkdir(parents=True)
        with open(path.parent / "lab-start.log", "w") as log:
            r = subprocess.run([str(LAB), "-d", str(path), "start"], stdin=subprocess.DEVNULL,
                               stdout=log, stderr=log)
        assert r.returncode == 0, (path.parent / "lab-start.log").read_text()
        out = subprocess.run([str(LAB), "-d", str(path), "env"], capture_output=True, text=True,
                             check=True).stdout
        self.env = dict(os.environ)
        for line in out.splitlines():
            k, v = line[len("export "):].split("=", 1)
            self.env[k] = v.strip("'")
        self.ns = subprocess.run([str(LAB), "-d", str(path), "ns"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        self.label = self.env["TPM_LAB_LABEL"]
        self.pin = self.env["TPM_LAB_PIN"]
        self.pin_file = path.parent / "tpm-pin"
        self.pin_file.write_text(self.pin + "\n")

    def boot(self, *extra):
        dev = start_device("--module", TPM_MODULE, "--token", f"pkcs11:token={self.label}", *extra,
                           env=self.env, prefix=("nsenter", f"--net={self.ns}", "--"))
        dev.lab = self
        return dev

    def tool(self, *args):
        """pkcs11-tool on the lab's token, logged in, inside the namespace; returns stdout."""
        r = subprocess.run(["nsenter", f"--net={self.ns}", "--", "pkcs11-tool", "--module",
                            TPM_MODULE, "--token-label", self.label, "--login", "--pin", self.pin,
                            *args], env=self.env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout

    def stop(self):
        subprocess.run([str(LAB), "-d", str(self.dir), "stop"], capture_output=True)


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path / "lab")
    yield lab
    lab.stop()


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
