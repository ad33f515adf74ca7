"""cwctl's own contract: exit codes, errors, timeouts, help."""
import io
import itertools
import os
import select
import subprocess
import threading
import time
import tty

import pexpect
import pytest

from conftest import CWCTL


def test_help():
    r = subprocess.run([str(CWCTL), "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    for opt in ("--port", "--speed", "--timeout", "--max-time", "--pin-file", "shell"):
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


# ---- ports that never stop sending: --max-time (exit 4) -----------------------------------------

class FakePort:
    """The far end of a pty that cwctl takes for a device's console. A thread reads what cwctl
    sends (into .received) and writes what talk(received) returns, every few milliseconds, until
    stopped: a stream of about 40 KB/s at most, the rate of a fast UART. Bytes cwctl does not read
    wait in the pty, so nothing piles up in the test. The near end stays open, so cwctl never sees
    a hang-up."""

    PERIOD = 0.005

    def __init__(self, talk):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # what cwctl sets too; no canonical buffering before it opens
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.received = b""
        self._talk = talk
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _read(self):
        try:
            self.received += os.read(self.master, 4096)
        except (BlockingIOError, OSError):
            pass

    def _run(self):
        pending = b""
        while not self._stop.is_set():
            if select.select([self.master], [], [], self.PERIOD)[0]:
                self._read()
            if not pending:
                pending = self._talk(self.received) or b""
            try:
                pending = pending[os.write(self.master, pending):] if pending else pending
            except BlockingIOError:
                pass  # cwctl is not reading (not started, or gone): keep the bytes for later

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._read()  # what cwctl sent last (its Ctrl-C) may still be in the pty
        os.close(self.master)
        os.close(self.slave)


def log_lines(rx):
    """A console printing its log and nothing else."""
    return b"".join(b"[%10.6f] edge: watchdog fed, uplink 100 Mbps full duplex, queue %d\r\n"
                    % (k / 997, k % 7) for k in range(4))


def no_line_end(rx):
    """Line noise (or a wrong baud rate): every byte value but LF, so no line ever ends."""
    return bytes(b for b in range(256) if b != 0x0A)


def echo_junk(rx):
    """A prompt and the echo of the last line cwctl sent, over and over: the first copy is the
    command's echo, and every later one looks like more output."""
    lines = rx.replace(b"\x03", b"").split(b"\r")[:-1]
    return (b"certwiz> " + (lines[-1] if lines else b"") + b"\r\n") * 4


def prompt_junk(rx):
    """A prompt for a secret, over and over, never followed by the quiet that makes it one."""
    return b"PIN (hidden): " * 8


def run_cwctl(port, *args, stdin=subprocess.DEVNULL):
    """cwctl with a short --max-time and a --timeout longer than the safety net: only --max-time
    can end it before the subprocess timeout turns a hang into a failure."""
    return subprocess.run([str(CWCTL), "--port", port, "--timeout", "30", "--max-time", "2",
                           *args], capture_output=True, text=True, timeout=20, stdin=stdin)


def assert_gave_up(r, port, fake):
    assert r.returncode == 4, r.stderr
    assert f"no final line from {port} after 2 s (--max-time)" in r.stderr, r.stderr
    assert "the device kept sending" in r.stderr, r.stderr
    # Ctrl-C before the command (settling) and again on giving up
    assert fake.received.endswith(b"\x03") and fake.received.count(b"\x03") >= 2, fake.received


@pytest.mark.parametrize("talk", [log_lines, no_line_end, echo_junk, prompt_junk],
                         ids=lambda f: f.__name__)
def test_port_that_keeps_sending_gives_up_at_max_time(tmp_path, talk):
    pin = tmp_path / "pin"
    pin.write_text("4711\n")
    with FakePort(talk) as fake:
        r = run_cwctl(fake.path, "--pin-file", str(pin), "version")
    assert_gave_up(r, fake.path, fake)
    assert b"4711" not in fake.received  # a prompt that never went quiet got no answer


def test_paste_into_a_port_that_keeps_echoing_gives_up(tmp_path):
    """The paste waits for each line's echo; a port that repeats echoes forever ends it too."""
    state = {"prompted": False}

    def talk(rx):
        if not state["prompted"]:
            if b"import s\r" not in rx:
                return b""
            state["prompted"] = True
            return b"import s\r\nPaste the certificate, then a blank line or quit: "
        if rx.endswith(b"import s\r"):
            return b""  # quiet: the prompt is a prompt
        return echo_junk(rx)

    pem = tmp_path / "cert.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n" + "QUJD" * 16 + "\n" * 1
                   + ("QUJD" * 16 + "\n") * 20 + "-----END CERTIFICATE-----\n")
    with FakePort(talk) as fake:
        r = run_cwctl(fake.path, "--paste", str(pem), "import", "s")
    assert_gave_up(r, fake.path, fake)
    assert b"-----BEGIN CERTIFICATE-----\r" in fake.received  # the paste had begun


def test_shell_without_terminal_gives_up_when_input_never_ends():
    """A script's pipe that stays open, and a device that never stops talking."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"status\r")
        with FakePort(log_lines) as fake:
            r = subprocess.run([str(CWCTL), "--port", fake.path, "--max-time", "2", "shell"],
                               capture_output=True, timeout=20, stdin=read_end)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert r.returncode == 4, r.stderr
    assert b"standard input had not ended after 2 s (--max-time)" in r.stderr, r.stderr
    assert b"watchdog fed" in r.stdout
    assert fake.received.startswith(b"status\r") and fake.received.endswith(b"\x03")


def test_port_that_goes_quiet_is_a_timeout_not_max_time():
    """Silence is still exit 3: the log stops, and --timeout (1 s) runs out before --max-time."""
    calls = itertools.count()

    def talk(rx):
        return log_lines(rx) if next(calls) < 20 else b""

    with FakePort(talk) as fake:
        r = subprocess.run([str(CWCTL), "--port", fake.path, "--timeout", "1", "--max-time", "30",
                            "version"], capture_output=True, text=True, timeout=20)
    assert r.returncode == 3, r.stderr
    assert f"timeout: no reply from {fake.path} for 1 s" in r.stderr
    assert fake.received.endswith(b"\x03")


def test_time_waiting_for_the_operator_does_not_count():
    """An answer and a secret typed at the terminal, each after longer than --max-time: the
    command still ends with the device's OK."""
    cr_seen = {"n": 0}

    def talk(rx):
        n = rx.count(b"\r")
        if n == cr_seen["n"]:
            return b""
        cr_seen["n"] = n
        return {1: b"ca auth p\r\nsubject: CN=Test CA\r\nAccept this CA certificate? (yes/no): ",
                2: b"yes\r\nPIN (hidden): ",
                3: b"\r\nOK\r\n"}.get(n, b"")

    with FakePort(talk) as fake:
        child = pexpect.spawn(str(CWCTL), ["--port", fake.path, "--timeout", "30", "--max-time", "3",
                                           "ca", "auth", "p"], timeout=20)
        child.logfile_read = seen = io.BytesIO()
        try:
            child.expect(r"\(yes/no\): ")
            time.sleep(4)
            child.sendline("yes")
            child.expect(r"PIN \(hidden\): ")
            time.sleep(4)
            child.sendline("4711")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
    assert child.exitstatus == 0, seen.getvalue()
    assert b"subject: CN=Test CA" in seen.getvalue()
    assert b"yes\r" in fake.received and b"4711\r" in fake.received
