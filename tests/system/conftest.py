"""Fixtures for the system tests: the real firmware binary on a pty, driven by the real cwctl.

Run with Debian's /usr/bin/python3 (python3-pytest, python3-pexpect). The Makefile passes the
build directory in CW_BUILD (default build/host).
"""
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / os.environ.get("CW_BUILD", "build/host")
CERTWIZ = BUILD / "certwiz"
CWCTL = BUILD / "cwctl"


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

    def tool(self, *args):
        """pkcs11-tool on this token (logged in), returns stdout."""
        r = subprocess.run(["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", self.label,
                            "--login", "--pin", self.pin, *args], env=self.env,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout


@pytest.fixture
def token(tmp_path):
    return Token(tmp_path)


@pytest.fixture
def device_with_token(token):
    dev = start_device("--module", SOFTHSM_MODULE, "--token", f"pkcs11:token={token.label}",
                       env=token.env)
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


def pytest_configure(config):
    """A skipped test always says why in the summary (the network namespace and TAP tests skip
    where the machine does not allow them), whatever -r options the run was given."""
    if "s" not in config.option.reportchars and "a" not in config.option.reportchars \
            and "A" not in config.option.reportchars:
        config.option.reportchars += "s"
