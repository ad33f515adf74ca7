"""The console through the PC tool: what a technician or a script meets (docs/console.md)."""
import os
import re
import signal
import subprocess
import time

import pexpect

from conftest import CERTWIZ, CWCTL, start_device


def test_version(device):
    r = device.cwctl("version")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert re.match(r"certwiz \d+\.\d+\.\d+", lines[0])
    assert lines[1].startswith("board: host (Linux process")
    assert "mbedTLS 3.6.6, lwIP 2.2.1" in lines
    # the echo, the prompt and the final OK line are not part of the output
    assert "OK" not in lines
    assert not any("certwiz>" in l for l in lines)


def test_status(device):
    r = device.cwctl("status")
    assert r.returncode == 0, r.stderr
    assert "board: host" in r.stdout
    assert re.search(r"^uptime: \d+\.\d{3} s$", r.stdout, re.M)
    assert re.search(r"^clock: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", r.stdout, re.M)
    assert re.search(r"^arena: \d+ of 49152 bytes in use$", r.stdout, re.M)


def test_mem_shows_arena_and_lwip_pools(device):
    r = device.cwctl("mem")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^arena: size 49152, in use \d+ in \d+ blocks, high-water \d+ in \d+ blocks$",
                     r.stdout, re.M)
    for pool in ("HEAP (bytes)", "TCP_PCB", "UDP_PCB", "PBUF_POOL", "SYS_TIMEOUT"):
        assert re.search(r"^\s+" + re.escape(pool) + r"\s+\d+\s+\d+\s+\d+\s+\d+$", r.stdout, re.M), pool


def test_help_lists_every_command(device):
    r = device.cwctl("help")
    assert r.returncode == 0
    for cmd in ("help", "version", "status", "mem"):
        assert re.search(rf"^{cmd}\s", r.stdout, re.M), cmd


def test_unknown_command_is_a_named_error_and_console_keeps_working(device):
    r = device.cwctl("frobnicate", "now")
    assert r.returncode == 1
    assert "UNKNOWN_COMMAND" in r.stderr
    assert r.stdout == ""
    r = device.cwctl("version")
    assert r.returncode == 0


def test_overlong_line_is_a_named_error_and_console_keeps_working(device):
    r = device.cwctl("version", "x" * 400)
    assert r.returncode == 1
    assert "LINE_TOO_LONG" in r.stderr
    r = device.cwctl("status")
    assert r.returncode == 0
    assert "board: host" in r.stdout


def test_wrong_arguments_are_usage(device):
    r = device.cwctl("mem", "please")
    assert r.returncode == 1
    assert "USAGE" in r.stderr


def test_a_command_without_arguments_refuses_any(device):
    # The console checks it once for every command whose synopsis is empty (cw_console.h), so
    # none of them runs with an argument it would silently ignore.
    for cmd in ("help", "version", "status", "mem", "net", "login", "logout", "token", "keys",
                "roles"):
        r = device.cwctl(cmd, "extra")
        assert r.returncode == 1, (cmd, r.stdout)
        assert "USAGE" in r.stderr, (cmd, r.stderr)


def test_many_commands_in_a_row(device):
    for i in range(20):
        r = device.cwctl("version" if i % 2 else "mem")
        assert r.returncode == 0, (i, r.stderr)


def test_sigterm_shuts_down_cleanly(device):
    rc, err = device.stop(signal.SIGTERM)
    assert rc == 0
    assert "SIGTERM, shut down" in err


def test_pty_link_is_made_and_removed(tmp_path):
    link = tmp_path / "console"
    dev = start_device("--pty-link", str(link))
    assert os.path.islink(link)
    assert os.readlink(link) == dev.port
    assert dev.cwctl("version").returncode == 0
    rc, _ = dev.stop(signal.SIGINT)
    assert rc == 0
    assert not os.path.lexists(link)


def test_stdio_console_a_person_types_with_backspace():
    """--uart stdio in a terminal: a person types, edits with backspace, Ctrl-C stops certwiz."""
    child = pexpect.spawn(str(CERTWIZ), ["--uart", "stdio"], timeout=10, encoding="utf-8")
    child.expect_exact("certwiz> ")
    child.send("versiox\x7fn\r")
    child.expect(r"certwiz \d+\.\d+\.\d+")
    child.expect_exact("OK")
    child.expect_exact("certwiz> ")
    child.send("statux\x08s\r")
    child.expect_exact("board: host")
    child.expect_exact("OK")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_help_option_lists_every_option():
    r = subprocess.run([str(CERTWIZ), "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for opt in ("--uart stdio", "--uart pty", "--pty-link", "--help", "--version"):
        assert opt in r.stdout
    r = subprocess.run([str(CERTWIZ), "--uart", "serial9"], capture_output=True, text=True)
    assert r.returncode == 2
    assert "--uart takes stdio or pty" in r.stderr
