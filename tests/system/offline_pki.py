"""An offline CA for the system tests: `openssl ca` over the PKI of tests/pki/make-pki.sh, and the
example topology with that PKI's root pinned."""
import base64
import hashlib
import re
import subprocess
from pathlib import Path

from conftest import ROOT, compile_topology

EXAMPLE = ROOT / "docs/examples/edge-appliance.json"


class OfflineCA:
    def __init__(self, tmp_path):
        self.dir = tmp_path / "pki"
        subprocess.run([str(ROOT / "tests/pki/make-pki.sh"), str(self.dir)], check=True,
                       capture_output=True)
        cnf = self.dir / "ca-int/ca.cnf"
        text = cnf.read_text().replace("copy_extensions = none", "copy_extensions = copy")
        text = text.replace("[ any ]\ncommonName = optional\norganizationName = optional",
                            "[ any ]\ncountryName = optional\nstateOrProvinceName = optional\n"
                            "localityName = optional\norganizationName = optional\n"
                            "organizationalUnitName = optional\ncommonName = optional")
        text += ("[ srv ]\nbasicConstraints = CA:false\n"
                 "keyUsage = critical, digitalSignature, keyEncipherment\n"
                 "[ srv_client_only ]\nbasicConstraints = CA:false\nextendedKeyUsage = clientAuth\n")
        cnf.write_text(text)
        self.cnf = cnf
        self.root_der = (self.dir / "root.der").read_bytes()
        self.root_sha256 = hashlib.sha256(self.root_der).hexdigest()

    def sign(self, csr_pem, out_name, ext="srv", days=None, dates=None, ca="int"):
        """Issue a certificate for the CSR text; returns the certificate PEM path."""
        csr = self.dir / f"{out_name}.csr"
        csr.write_text(csr_pem)
        out = self.dir / f"{out_name}.pem"
        cnf = self.dir / f"ca-{ca}/ca.cnf"
        if ca != "int":
            text = cnf.read_text()
            if "[ srv ]" not in text:
                text = text.replace("copy_extensions = none", "copy_extensions = copy")
                text += "[ srv ]\nbasicConstraints = CA:false\nkeyUsage = critical, digitalSignature, keyEncipherment\n"
                cnf.write_text(text)
        cmd = ["openssl", "ca", "-batch", "-config", str(cnf), "-extensions", ext, "-in", str(csr),
               "-out", str(out), "-notext", "-policy", "any"]
        cmd += dates if dates else ["-days", str(days or 365)]
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return out

    def bundle(self, leaf_pem, *names):
        """leaf + the named CA certificates (e.g. "int", "root") as one PEM text."""
        parts = [Path(leaf_pem).read_text()]
        parts += [(self.dir / f"{n}.pem").read_text() for n in names]
        return "".join(parts)

    def p7b_pem(self, leaf_pem, *names):
        args = ["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(leaf_pem)]
        for n in names:
            args += ["-certfile", str(self.dir / f"{n}.pem")]
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def fingerprint_colons(hexdigest):
    return ":".join(hexdigest[i:i + 2] for i in range(0, 64, 2)).upper()


def topology_pem(tmp_path, root_sha256, mutate=None):
    """The example topology with public-offline pinned to root_sha256, compiled by cwctl and
    armoured as the console takes it. Returns (pem_path, der_bytes)."""
    text = EXAMPLE.read_text()
    text = re.sub(r'"caFingerprint": "[0-9A-F:]+"',
                  f'"caFingerprint": "{fingerprint_colons(root_sha256)}"', text)
    if mutate:
        text = mutate(text)
    blob = compile_topology(text, tmp_path).read_bytes()
    pem = tmp_path / "site.pem"
    b64 = base64.b64encode(blob).decode()
    pem.write_text("-----BEGIN CERTWIZ TOPOLOGY-----\n" +
                   "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) +
                   "\n-----END CERTWIZ TOPOLOGY-----\n")
    return pem, blob


def csr_of(output):
    m = re.search(r"-----BEGIN CERTIFICATE REQUEST-----.*?-----END CERTIFICATE REQUEST-----\n?",
                  output, re.S)
    assert m, output
    return m.group(0)
