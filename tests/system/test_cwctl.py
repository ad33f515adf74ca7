"""cwctl's own contract: exit codes, errors, timeouts, help."""
import os
import subprocess

from conftest import CWCTL


def test_help():
    r = subprocess.run([str(CWCTL), "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for opt in ("--port", "--speed", "--timeout", "--pin-file", "shell"):
        assert opt in r.stdout


def test_no_command_is_usage_error():
    r = subprocess.run([str(CWCTL), "--port", "/dev/null"], capture_output=True, text=True)
    assert r.returncode == 2


def test_missing_port_is_named():
    r = subprocess.run([str(CWCTL), "--port", "/dev/does-not-exist", "version"],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert "/dev/does-not-exist" in r.stderr


def test_silent_device_times_out():
    """A pty nobody answers on: cwctl gives up after --timeout with exit status 3."""
    master, slave = os.openpty()
    try:
        r = subprocess.run([str(CWCTL), "--port", os.ttyname(slave), "--timeout", "1", "version"],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 3
        assert "timeout" in r.stderr
    finally:
        os.close(master)
        os.close(slave)
