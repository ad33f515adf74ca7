"""Fixtures for the system tests: the real firmware binary on a pty, driven by the real cwctl.

Run with Debian's /usr/bin/python3 (python3-pytest, python3-pexpect). The Makefile passes the
build directory in CW_BUILD (default build/host).

The token: the `token` fixture is a fresh SoftHSM2 token; with CW_TOKEN=tpm it is a fresh token of
tpm2-pkcs11 on a software TPM instead (one lab of tests/lab/tpm-lab.sh for the whole run: swtpm,
tpm2-abrmd --max-transients=3 as /dev/tpmrm0 allows, a private D-Bus bus; needs root). Tests start
certwiz with `*token.args()` and check with `token.tool(...)`, so the same test runs on both
(issue 17: `make check` runs the offline, SCEP and power-cut tests twice). A test that can only run
on SoftHSM2 (it copies the token's files, or asks for a key the TPM cannot make) is marked
`@pytest.mark.softhsm_only("why")` and skipped on the TPM with that reason.
"""
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / os.environ.get("CW_BUILD", "build/host")
CERTWIZ = BUILD / "certwiz"
CWCTL = BUILD / "cwctl"


def compile_topology(doc, tmp, name="site"):
    """A topology (a dict, or its JSON text) written to tmp/NAME.json and compiled by cwctl into
    tmp/NAME.der, whose path is returned."""
    js = tmp / f"{name}.json"
    js.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    der = tmp / f"{name}.der"
    r = subprocess.run([str(CWCTL), "topology", "compile", str(js), "-o", str(der)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return der


class Device:
    """A running certwiz process whose console is a pty."""

    def __init__(self, proc, port):
        self.proc = proc
        self.port = port

    def cwctl(self, *args, timeout=30, pin_file=None, stdin=None, extra=()):
        """Run cwctl against this device; returns the CompletedProcess (text)."""
        cmd = [str(CWCTL), "--port", self.port, "--timeout", "20", *extra]
        if pin_file:
            cmd += ["--pin-file", str(pin_file)]
        cmd += list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL if stdin is None else stdin)

    def stop(self, sig=signal.SIGTERM):
        """Stop the firmware; returns its exit status and stderr."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err


def start_device(*extra_args, env=None, prefix=()):
    """Start certwiz --uart pty and wait for it to print its console path. prefix runs it through
    another program that execs it (nsenter into the TPM lab's namespace)."""
    proc = subprocess.Popen([*prefix, str(CERTWIZ), "--uart", "pty", *extra_args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    line = proc.stdout.readline()
    m = re.match(r"certwiz: console on (/dev/pts/\d+)", line)
    if not m:
        proc.kill()
        out, err = proc.communicate()
        raise RuntimeError(f"certwiz did not announce its pty: {line!r} {out!r} {err!r}")
    return Device(proc, m.group(1))


SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


class Token:
    """A fresh SoftHSM2 token in a temporary directory."""

    def __init__(self, tmp_path, label="edge1", pin="1234", so_pin="12345678"):
        self.dir = tmp_path / "softhsm"
        (self.dir / "tokens").mkdir(parents=True)
        self.conf = self.dir / "softhsm2.conf"
        self.conf.write_text(f"directories.tokendir = {self.dir}/tokens\n"
                             "objectstore.backend = file\nlog.level = ERROR\n")
        self.env = {**os.environ, "SOFTHSM2_CONF": str(self.conf)}
        self.label, self.pin, self.so_pin = label, pin, so_pin
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label,
                        "--so-pin", so_pin, "--pin", pin], env=self.env, check=True,
                       capture_output=True)
        self.pin_file = self.dir / "pin"
        self.pin_file.write_text(pin + "\n")

    module = SOFTHSM_MODULE
    kind = "softhsm2"
    public_records = True  # the token allows public data objects (decision 39)

    def read_records(self, dev):
        """Makes dev's stored records readable: nothing where they are public (read at boot
        without a PIN), a login where the token keeps them private (tpm2-pkcs11)."""
        if not self.public_records:
            r = dev.cwctl("login", pin_file=self.pin_file)
            assert r.returncode == 0, r.stderr

    def args(self):
        """certwiz's options for this token: the module by path, the token by label."""
        return ("--module", self.module, "--token", f"pkcs11:token={self.label}")

    def tool(self, *args):
        """pkcs11-tool on this token (logged in), returns stdout."""
        r = subprocess.run(["pkcs11-tool", "--module", self.module, "--token-label", self.label,
                            "--login", "--pin", self.pin, *args], env=self.env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout


TPM_MODULE = "/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so"
TPM_LAB = ROOT / "tests/lab/tpm-lab.sh"
TOKEN_KIND = os.environ.get("CW_TOKEN", "softhsm2")


class TpmLab:
    """One running TPM lab (tests/lab/tpm-lab.sh) in dir: its environment and namespace."""

    def __init__(self, path):
        self.dir = path
        path.mkdir(parents=True, exist_ok=True)
        log = path.parent / f"{path.name}-start.log"
        with open(log, "w") as f:  # its daemons keep inherited descriptors: a file, not a pipe
            r = subprocess.run([str(TPM_LAB), "-d", str(path), "start"], stdin=subprocess.DEVNULL,
                               stdout=f, stderr=f)
        assert r.returncode == 0, log.read_text()
        out = subprocess.run([str(TPM_LAB), "-d", str(path), "env"], capture_output=True, text=True,
                             check=True).stdout
        self.env = dict(os.environ)
        for line in out.splitlines():
            k, v = line[len("export "):].split("=", 1)
            self.env[k] = v.strip("'")
        self.ns = subprocess.run([str(TPM_LAB), "-d", str(path), "ns"], capture_output=True,
                                 text=True, check=True).stdout.strip()
        self.made = 0

    def in_ns(self, *cmd, check=True):
        return subprocess.run(["nsenter", f"--net={self.ns}", "--", *cmd], env=self.env,
                              capture_output=True, text=True, check=check, stdin=subprocess.DEVNULL)

    def new_token(self, tmp_path, pin="1234", so_pin="12345678"):
        """A fresh token in the lab's store. Labels have one width (pkcs11-tool's --token-label
        takes a prefix). The TPM's dictionary-attack counter is cleared: it is one for the chip."""
        self.made += 1
        label = f"edge-{self.made:04d}"
        self.in_ns("tpm2_ptool", "addtoken", "--pid=1", f"--label={label}", f"--sopin={so_pin}",
                   f"--userpin={pin}", "--path", self.env["TPM2_PKCS11_STORE"])
        self.in_ns("tpm2_dictionarylockout", "--clear-lockout")
        return TpmToken(self, tmp_path, label, pin, so_pin)

    def remove_token(self, token):
        """Takes the token out of the store again: every process using tpm2-pkcs11 1.9 opens one
        connection to tpm2-abrmd per token in the store, and tabrmd allows 27 connections."""
        self.in_ns("tpm2_ptool", "rmtoken", f"--label={token.label}", "--path",
                   self.env["TPM2_PKCS11_STORE"], check=False)

    def stop(self):
        subprocess.run([str(TPM_LAB), "-d", str(self.dir), "stop"], capture_output=True)


class TpmToken(Token):
    """A fresh tpm2-pkcs11 token of a running TpmLab (the same interface as Token)."""

    module = TPM_MODULE
    kind = "tpm"
    public_records = False  # tpm2-pkcs11 refuses public data objects

    def __init__(self, lab, tmp_path, label, pin, so_pin):  # pylint: disable=super-init-not-called
        self.lab = lab
        self.dir = tmp_path / "tpm-token"
        self.dir.mkdir(parents=True)
        self.env = lab.env
        self.label, self.pin, self.so_pin = label, pin, so_pin
        self.pin_file = self.dir / "pin"
        self.pin_file.write_text(pin + "\n")


@pytest.fixture(scope="session")
def tpm_lab():
    if os.geteuid() != 0 or not os.path.exists(TPM_MODULE):
        pytest.skip("CW_TOKEN=tpm needs root and tpm2-pkcs11 (make deps)")
    with tempfile.TemporaryDirectory(prefix="cw-tpm-lab-") as d:
        lab = TpmLab(Path(d) / "lab")
        try:
            yield lab
        finally:
            lab.stop()


def make_token(request, tmp_path, **kw):
    """A fresh token of the kind this run tests (CW_TOKEN)."""
    if TOKEN_KIND == "tpm":
        return request.getfixturevalue("tpm_lab").new_token(tmp_path, **kw)
    return Token(tmp_path, **kw)


@pytest.fixture
def token(request, tmp_path):
    tok = make_token(request, tmp_path)
    yield tok
    if tok.kind == "tpm":
        tok.lab.remove_token(tok)


@pytest.fixture
def device_with_token(token):
    dev = start_device(*token.args(), env=token.env)
    dev.token = token
    yield dev
    rc, err = dev.stop()
    assert rc == 0, f"certwiz exited {rc}: {err}"


@pytest.fixture
def device():
    dev = start_device()
    yield dev
    rc, err = dev.stop()
    assert rc == 0, f"certwiz exited {rc}: {err}"


def pytest_collection_modifyitems(config, items):
    if TOKEN_KIND != "tpm":
        return
    for item in items:
        m = item.get_closest_marker("softhsm_only")
        if m is not None:
            item.add_marker(pytest.mark.skip(reason=f"SoftHSM2 only: {m.args[0]}"))


def pytest_configure(config):
    """A skipped test always says why in the summary (the network namespace and TAP tests skip
    where the machine does not allow them), whatever -r options the run was given."""
    config.addinivalue_line("markers", "softhsm_only(why): runs on SoftHSM2 only (not with CW_TOKEN=tpm)")
    if "s" not in config.option.reportchars and "a" not in config.option.reportchars \
            and "A" not in config.option.reportchars:
        config.option.reportchars += "s"
