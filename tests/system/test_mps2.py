"""The firmware on the Cortex-M4 board (issue 8): BOARD=mps2-an386 built with arm-none-eabi-gcc and
booted in QEMU's `-M mps2-an386`, the console on QEMU's stdio (a pty under pexpect), the LAN9118 on
QEMU's user networking (slirp: the PC's loopback is 10.0.2.2, DHCP gives 10.0.2.15).

Issue 19: the token on UART1, p11-kit's RPC protocol to a real `p11-kit server` serving a SoftHSM2
token on the PC (TokenLink below, with a relay that counts what crosses the line). Without a second
-serial, nothing answers the handshake and the board runs without a token.

Skipped, with the reason printed, only when qemu-system-arm or the cross compiler is absent (both
are in tools/deps/debian-packages.txt, so CI has them).
"""
import calendar
import hashlib
import http.server
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import re
import shlex
import time
from pathlib import Path

import pexpect
import pytest

from conftest import ROOT

BOARD = "mps2-an386"
# CW_MPS2_BUILD: another build directory for the board (e.g. a helper's, beside the main one);
# make is then given it too.
MAKE_BUILD = [f"BUILD={os.environ['CW_MPS2_BUILD']}"] if os.environ.get("CW_MPS2_BUILD") else []
BUILD = ROOT / os.environ.get("CW_MPS2_BUILD", f"build/{BOARD}")
ELF = BUILD / "certwiz"
CROSS_GCC = os.environ.get("CROSS_COMPILE", "arm-none-eabi-") + "gcc"
QEMU = os.environ.get("QEMU", "qemu-system-arm")
PROMPT = "certwiz> "


def missing_tools():
    return [t for t in (QEMU, CROSS_GCC) if shutil.which(t) is None]


@pytest.fixture(scope="module")
def elf():
    missing = missing_tools()
    if missing:
        reason = f"the {BOARD} board needs {' and '.join(missing)}, not installed"
        print(f"SKIP test_mps2: {reason}")
        pytest.skip(reason)
    # A make of its own: not a job of the make that may have started pytest.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "--no-print-directory", "-j2", f"BOARD={BOARD}", *MAKE_BUILD, "build"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"make BOARD={BOARD} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    assert ELF.exists()
    return ELF


def qemu_argv(elf_path):
    return [QEMU, "-M", BOARD, "-nographic", "-serial", "mon:stdio", "-nic", "user",
            "-semihosting-config", "enable=on,target=native", "-kernel", str(elf_path)]


class Board:
    """QEMU running the firmware; console lines through pexpect."""

    def __init__(self, elf_path, wrap=None, extra=()):
        """wrap: an argv in which "{qemu}" stands for the QEMU command line (a shell in a network
        namespace of its own, say). extra: more QEMU arguments (UART1's, TokenLink.qemu_args)."""
        argv = qemu_argv(elf_path) + list(extra)
        if wrap is not None:
            line = " ".join(shlex.quote(a) for a in argv)
            argv = [w.replace("{qemu}", line) for w in wrap]
        self.p = pexpect.spawn(argv[0], argv[1:], encoding="utf-8", codec_errors="replace", timeout=20)
        self.p.expect(PROMPT)
        self.banner = self.p.before

    def cmd(self, line, timeout=20):
        """Sends one command; returns its output lines up to and including OK or ERR."""
        self.p.send(line + "\r")
        # the console ends lines with CRLF, and the pty adds a CR of its own
        self.p.expect(r"\r*\n(OK|ERR [^\r\n]*)\r*\n" + PROMPT, timeout=timeout)
        out = (self.p.before + "\r\n" + self.p.match.group(1)).replace("\r", "")
        lines = out.split("\n")
        assert lines[0].strip() == line  # the echo
        return lines[1:]

    def login(self, pin, timeout=20):
        """`login` with the PIN at its prompt; returns the output lines up to OK or ERR."""
        self.p.send("login\r")
        self.p.expect("PIN", timeout=timeout)
        self.p.send(pin + "\r")
        self.p.expect(r"\r*\n(OK|ERR [^\r\n]*)\r*\n" + PROMPT, timeout=timeout)
        return (self.p.before + "\r\n" + self.p.match.group(1)).replace("\r", "").split("\n")

    def monitor(self, line):
        """Runs one QEMU monitor command (Ctrl-A c switches the mux to the monitor and back)."""
        self.p.sendcontrol("a")
        self.p.send("c")
        self.p.expect(r"\(qemu\) ")
        self.p.send(line + "\r")
        self.p.expect(r"\(qemu\) ")
        out = self.p.before
        self.p.sendcontrol("a")
        self.p.send("c")
        # an empty line: the console's fresh prompt, so that cmd() starts clean
        self.p.send("\r")
        self.p.expect(PROMPT)
        return out

    def close(self):
        self.p.sendcontrol("a")
        self.p.send("x")
        self.p.expect(pexpect.EOF, timeout=10)
        self.p.close()


@pytest.fixture
def board(elf):
    b = Board(elf)
    yield b
    b.close()


def test_boot_banner_and_version(board):
    assert "certwiz" in board.banner and "on mps2-an386" in board.banner
    # nothing behind UART1 (no second -serial): the board says why it has no token, and boots on
    assert ("mps2-an386: no token on UART1: nothing answered the p11-kit handshake on the token link"
            in board.banner.replace("\r", "").replace("\n", " ")), board.banner
    out = board.cmd("version")
    assert out[-1] == "OK"
    assert out[0].startswith("certwiz 0.1.0")
    assert out[1].startswith("board: mps2-an386 (Arm MPS2 AN386, Cortex-M4")
    # the wire of the p11-kit version the client is paired with (cw_p11_rpc.h)
    assert out[1].endswith("token on UART1: p11-kit RPC v0, mechanisms as up to p11-kit 0.25.5)"), out
    assert "mbedTLS 3.6" in out[2] and "lwIP 2.2" in out[2]


def test_status_names_the_missing_token(board):
    out = board.cmd("status")
    assert out[-1] == "OK"
    assert "board: mps2-an386" in out
    assert "clock: unknown (no RTC, no SNTP answer yet): validity is not judged (TIME_UNKNOWN)" in out
    assert any(l.startswith("token: none (NO_TOKEN: ") for l in out), out
    assert "topology: not read (no token)" in out, out
    # token commands answer the named error; a login asks the link again, and says what it heard
    out = board.cmd("login")
    assert out[-1] == "ERR NO_TOKEN: No PKCS#11 token is available on this board.", out
    assert any("no token on UART1: nothing answered the p11-kit handshake" in l for l in out), out


def test_mem_lists_arena_and_pools(board):
    out = board.cmd("mem")
    assert out[-1] == "OK"
    assert out[0].startswith("arena: size 16384, in use 0")
    assert any(l.split()[:1] == ["PBUF_POOL"] for l in out), out
    # the painted stack: size and the most ever used, a real figure (not zero, not all of it)
    stack = [l for l in out if l.startswith("stack: size ")]
    assert stack, out
    size, high = (int(x) for x in re.match(r"stack: size (\d+), high-water (\d+)", stack[0]).groups())
    assert size == 8192 and 0 < high < size


def wait_dhcp(board, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        out = board.cmd("net")
        if "address: 10.0.2.15/24 (DHCP)" in out:
            return out
        assert time.monotonic() < deadline, f"no DHCP lease: {out}"
        time.sleep(0.5)


def test_dhcp_through_slirp(board):
    out = wait_dhcp(board)
    assert any(l.startswith("interface: en0 (LAN9118") for l in out), out
    assert "gateway: 10.0.2.2" in out
    assert "dns: 10.0.2.3" in out
    assert any(l.startswith("dhcp: bound") for l in out), out
    # the link as the LAN9118's PHY reports it (BMSR over MII, polled every 500 ms)
    assert any(l.startswith("link: up, interface up") for l in out), out


def wait_net(board, text, timeout=5):
    deadline = time.monotonic() + timeout
    while True:
        out = board.cmd("net")
        if any(l.startswith(text) for l in out):
            return out
        assert time.monotonic() < deadline, f"no {text!r} in: {out}"
        time.sleep(0.2)


def test_link_follows_the_phy(board):
    """QEMU's `set_link` switches the PHY's link bit; the board's poll tells lwIP within 500 ms."""
    wait_dhcp(board)
    board.monitor("set_link lan9118.0 off")
    out = wait_net(board, "link: down")
    assert any("link changes 1" in l for l in out), out
    board.monitor("set_link lan9118.0 on")
    out = wait_net(board, "link: up")
    assert any("link changes 2" in l for l in out), out
    wait_dhcp(board)  # lwIP renews the lease after the link comes back


def hashed(body):
    """The line `http get` prints for a complete body."""
    return f"body: {len(body)} bytes, SHA-256 {hashlib.sha256(body).hexdigest()}"


class Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b"hello from the PC, through QEMU's slirp\n" * 50  # 2 KiB: two TCP segments

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


def test_http_get_from_the_pcs_loopback(board):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    port = srv.server_address[1]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        wait_dhcp(board)
        out = board.cmd(f"http get http://10.0.2.2:{port}/hello", timeout=30)
    finally:
        srv.shutdown()
        srv.server_close()
    assert out[-1] == "OK", out
    assert "status 200 OK" in out
    assert hashed(Hello.body) in out


class Bigger(Hello):
    body = bytes((i * 7) % 251 for i in range(4000))  # three of slirp's 1440-byte segments


def test_keep_alive_gets_fit_the_receive_pool(board):
    """Six 4000-byte bodies over one connection: every frame found a receive buffer (the pool
    holds one full frame and a spare, lwipopts.h), so none was dropped and no pool ran out."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Bigger)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        wait_dhcp(board)
        url = f"http://10.0.2.2:{srv.server_address[1]}/big"
        out = board.cmd("http get " + " ".join([url] * 6), timeout=60)
    finally:
        srv.shutdown()
        srv.server_close()
    assert out[-1] == "OK", out
    assert out.count(hashed(Bigger.body)) == 6, out
    assert out.count(f"reusing the connection to 10.0.2.2:{srv.server_address[1]}") == 5, out
    net = board.cmd("net")
    assert any(l.startswith("interface: en0") and "dropped 0;" in l for l in net), net
    pools = [l.split() for l in board.cmd("mem")]
    assert all(p[-1] == "0" for p in pools if p[:1] in (["PBUF_POOL"], ["HEAP"])), pools


def test_on_target_unit_tests(elf):
    """tests/target/ on the emulated Cortex-M4: exit status through semihosting."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "--no-print-directory", f"BOARD={BOARD}", *MAKE_BUILD, "target-check"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    assert " checks, 0 failed" in r.stdout
    for line in r.stdout.splitlines():
        if "high-water" in line:
            print(line)  # the measured figures, in the test log (pytest -s)


def test_a_failed_lwip_check_is_reported_where_it_is(elf):
    """lwIP's checks trap on this board (arch/cc.h); the fault report's pc leads addr2line to the
    check. The test image runs one failed check when its command line says `fault`."""
    tests = BUILD / "certwiz-tests"
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    subprocess.run(["make", "--no-print-directory", f"BOARD={BOARD}", *MAKE_BUILD,
                    str(tests.relative_to(ROOT))], cwd=ROOT, env=env, capture_output=True, check=True, timeout=300)
    r = subprocess.run([QEMU, "-M", BOARD, "-nographic", "-serial", "stdio", "-monitor", "none", "-nic", "user",
                        "-semihosting-config", "enable=on,target=native", "-kernel", str(tests), "-append", "fault"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 70, f"{r.returncode}: {r.stdout}{r.stderr}"
    m = re.search(r"mps2-an386: fault, exception 0x003 at pc 0x([0-9a-f]{8}); stopped", r.stdout)
    assert m, r.stdout
    src = ROOT / "tests/target/target_tests.c"
    line = next(i for i, l in enumerate(src.read_text().splitlines(), 1) if 'LWIP_ASSERT("deliberately' in l)
    a2l = subprocess.run([CROSS_GCC.replace("gcc", "addr2line"), "-e", str(tests), "0x" + m.group(1)],
                         capture_output=True, text=True, check=True)
    assert a2l.stdout.strip().endswith(f"tests/target/target_tests.c:{line}"), a2l.stdout


def test_image_links_no_allocator(elf):
    """newlib's malloc and sbrk stay out of the image (the board's failing stand-ins replace them)."""
    text = (BUILD / "certwiz.map").read_text(errors="replace")
    assert "nano-mallocr.o" not in text and "lib_a-sbrkr.o" not in text
    assert "lib_a-malloc.o" not in text


def test_image_links_no_64_bit_division(elf):
    """libgcc's 64-bit division (about 900 bytes) stays out: certwiz divides times and lifetimes in
    32 bits (docs/mps2-an386.md, "No 64-bit division")."""
    text = (BUILD / "certwiz.map").read_text(errors="replace")
    for helper in ("__aeabi_ldivmod", "__aeabi_uldivmod", "__udivmoddi4"):
        assert helper not in text, helper


def test_size_report_adds_up(elf):
    """`make size`: its totals are binutils' own (arm-none-eabi-size), its components and its
    per-object list each add up to the flash total."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "--no-print-directory", f"BOARD={BOARD}", *MAKE_BUILD, "size"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    lines = r.stdout.splitlines()
    rows = {}
    for line in lines[lines.index("-" * 64) + 1:]:
        if line.startswith("-" * 64):
            break
        name, text_, data, bss, flash, ram = line.split()
        rows[name] = (int(text_), int(data), int(bss), int(flash), int(ram))
    total = next(l for l in lines if l.startswith("total ")).split()
    t_text, t_data, t_bss, t_flash, t_ram = (int(x) for x in total[1:])
    stack = int(re.search(r"main stack \(reserved, \.stack\): (\d+) bytes", r.stdout).group(1))

    size = subprocess.run([CROSS_GCC[:-3] + "size", str(ELF)], capture_output=True, text=True, check=True)
    b_text, b_data, b_bss = (int(x) for x in size.stdout.splitlines()[1].split()[:3])
    assert (t_text, t_data) == (b_text, b_data)
    assert t_bss + stack == b_bss  # Berkeley's bss holds the reserved stack too
    assert t_flash == b_text + b_data and t_ram == b_data + t_bss
    assert sum(v[3] for v in rows.values()) == t_flash
    assert {"certwiz", "mbedTLS", "lwIP", "board", "libc"} <= set(rows)

    objs = lines[lines.index("largest 20 objects in flash (text + data):") + 1:]
    objs = [l.split() for l in objs if re.match(r"^\s+\d+\s+\S+\s+\S", l)][:20]
    assert len(objs) == 20 and "cw_err.o" in {o[2] for o in objs}
    sizes = [int(o[0]) for o in objs]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) < t_flash


class Stream(http.server.BaseHTTPRequestHandler):
    """/len/N and /chunked/N: N bytes without a short period, far over any buffer on the board
    (its `http post` buffer is 4 KiB)."""
    protocol_version = "HTTP/1.1"

    @staticmethod
    def body(n):
        return bytes((i * 7 + i // 251) % 256 for i in range(n))

    def log_message(self, *args):
        pass

    def do_GET(self):
        framing, n = self.path.split("/")[1:3]
        body = self.body(int(n))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if framing == "len":
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(body), 30000):
            part = body[i:i + 30000]
            self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


def test_http_get_streams_a_large_body_on_the_board(board):
    """Issue 15 on the Cortex-M: a 200 KB body by length and a 1 MB one in chunks are counted and
    hashed as they stream through the board's small receive pool; the pools report no error."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stream)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        wait_dhcp(board)
        base = f"http://10.0.2.2:{srv.server_address[1]}"
        out = board.cmd(f"http get {base}/len/200000 {base}/chunked/1000000", timeout=120)
    finally:
        srv.shutdown()
        srv.server_close()
    assert out[-1] == "OK", out
    assert [l for l in out if l.startswith("body: ")] == [hashed(Stream.body(200_000)),
                                                          hashed(Stream.body(1_000_000))], out
    assert "content-length: 200000" in out and "transfer-encoding: chunked" in out
    assert "requests: 2 on 1 connection" in out
    pools = [l.split() for l in board.cmd("mem")]
    assert all(p[-1] == "0" for p in pools if p[:1] in (["PBUF_POOL"], ["HEAP"])), pools


def test_the_board_takes_its_wall_clock_from_sntp(elf, tmp_path):
    """lwIP's SNTP client on the board asks 10.0.2.2 (the board's default server: QEMU's user
    network puts the PC there); chronyd answers on the loopback of a namespace made for the test."""
    from ntp_lab import chrony_argv, need_chrony
    need_chrony()
    chrony = " ".join(shlex.quote(a) for a in chrony_argv(tmp_path / "chrony"))
    b = Board(elf, wrap=["unshare", "--net", "--", "sh", "-c",
                         f"ip link set lo up; {chrony} >/dev/null 2>&1 & exec {{qemu}}"])
    try:
        end = time.monotonic() + 60
        out = []
        while time.monotonic() < end:
            out = b.cmd("status")
            if any(l.startswith("clock source: sntp") for l in out):
                break
            time.sleep(1)
        assert any(l.startswith("clock source: sntp") for l in out), out
        assert any(re.match(r"sntp: 10\.0\.2\.2, answering; [1-9]\d* answers taken$", l) for l in out), out
        clock = next(l for l in out if l.startswith("clock: "))[7:]
        device = calendar.timegm(time.strptime(clock, "%Y-%m-%dT%H:%M:%SZ"))
        assert abs(device - time.time()) < 5, (clock, time.time())
    finally:
        b.close()
        pid = tmp_path / "chrony" / "chronyd.pid"
        if pid.exists():
            subprocess.run(["kill", pid.read_text().strip()], check=False)


# ---- the token on UART1 (issue 19) ------------------------------------------------------------

from conftest import Device, SOFTHSM_MODULE, Token, compile_topology  # noqa: E402

LINE_BAUD = 115200  # the line time figures: 10 bits a byte on an 8N1 UART


class TokenLink:
    """The PC side of the board's UART1: `p11-kit server` exporting one SoftHSM2 token on a unix
    socket, and a relay on a second socket, where QEMU's UART1 chardev connects, that passes bytes
    both ways and counts them: bytes each way and the requests (message headers) the board sent.
    kill() ends the server and the `p11-kit remote` it forked; start() starts it again on the same
    socket. The relay keeps QEMU's side connected throughout, as a UART's cable stays plugged in:
    while no server is there, what the board sends is lost and nothing answers; the board's next
    bytes after that connect to the server again. (QEMU's own `reconnect=` connects asynchronously,
    and a board that boots in milliseconds could send its version byte before the connection is
    up.)"""

    def __init__(self, token):
        self.token = token
        self.dir = Path(tempfile.mkdtemp(prefix="rpc-link-"))  # unix socket paths must be short
        self.server_sock = self.dir / "p11-kit.sock"
        self.uart1_sock = self.dir / "uart1.sock"
        self.lock = threading.Lock()
        self.calls = self.bytes_out = self.bytes_in = 0
        self.server = None
        self.start()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.uart1_sock))
        self.listener.listen(1)
        self.listener.settimeout(0.2)
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def qemu_args(self):
        return ["-chardev", f"socket,id=token,path={self.uart1_sock}", "-serial", "chardev:token"]

    def start(self):
        if self.server_sock.exists():
            self.server_sock.unlink()
        self.server = subprocess.Popen(
            ["p11-kit", "server", "-f", "-n", str(self.server_sock), "--provider", SOFTHSM_MODULE,
             f"pkcs11:token={self.token.label}"],
            env=self.token.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 5
        while not self.server_sock.exists():
            assert self.server.poll() is None, self.server.stderr.read()
            assert time.monotonic() < deadline, "p11-kit server made no socket in 5 s"
            time.sleep(0.05)

    def kill(self):
        """The PC side dies: the server and every `p11-kit remote` it forked (by their pids)."""
        if self.server is None:
            return
        r = subprocess.run(["pgrep", "-P", str(self.server.pid)], capture_output=True, text=True)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
        self.server.kill()
        self.server.wait()
        self.server = None

    def counters(self):
        with self.lock:
            return {"calls": self.calls, "bytes_out": self.bytes_out, "bytes_in": self.bytes_in}

    def close(self):
        self.stopping = True
        self.thread.join(5)
        self.listener.close()
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- the relay ---------------------------------------------------------------------------
    def _serve(self):
        while not self.stopping:
            try:
                board, _ = self.listener.accept()
            except OSError:
                continue
            self._pump(board)

    def _connect_up(self):
        up = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            up.connect(str(self.server_sock))
            return up
        except OSError:
            up.close()
            return None

    def _pump(self, board):
        """Until QEMU closes UART1: bytes both ways; a server that went away is connected again
        when the board next sends (a new handshake, as the board only sends one after a break)."""
        up = self._connect_up()
        phase, header, skip = "version", b"", 0
        try:
            while not self.stopping:
                ready, _, _ = select.select([board] + ([up] if up else []), [], [], 0.2)
                for s in ready:
                    data = s.recv(65536)
                    if s is up:
                        if not data:  # the server is gone: the line goes silent
                            up.close()
                            up, phase, header, skip = None, "version", b"", 0
                            continue
                        board.sendall(data)
                        with self.lock:
                            self.bytes_in += len(data)
                        continue
                    if not data:
                        return  # QEMU ended
                    if up is None:
                        up = self._connect_up()
                        phase, header, skip = "version", b"", 0
                    if up is not None:
                        try:
                            up.sendall(data)
                        except OSError:
                            up.close()
                            up = None
                    i = 0
                    with self.lock:
                        self.bytes_out += len(data)
                        while i < len(data):  # count the requests: p11-kit's 12-byte headers
                            if phase == "version":
                                i, phase = i + 1, "header"
                            elif phase == "header":
                                take = min(12 - len(header), len(data) - i)
                                header, i = header + data[i:i + take], i + take
                                if len(header) == 12:
                                    self.calls += 1
                                    _, olen, blen = struct.unpack(">III", header)
                                    header, skip = b"", olen + blen
                                    phase = "body" if skip else "header"
                            else:
                                take = min(skip, len(data) - i)
                                i, skip = i + take, skip - take
                                if skip == 0:
                                    phase = "header"
        except OSError:
            return
        finally:
            board.close()
            if up is not None:
                up.close()


def qemu_pty_argv(elf_path, link):
    """QEMU with the console on a pty (for cwctl) and UART1 on the token link."""
    return [QEMU, "-M", BOARD, "-display", "none", "-monitor", "none", "-serial", "pty", *link.qemu_args(),
            "-nic", "user", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf_path)]


def start_qemu_device(elf_path, link, popen=subprocess.Popen):
    """QEMU booting the image, as a conftest.Device (cwctl on its console pty). popen: how to
    start it (a ScepServer's popen_in_ns runs it in the CA's network namespace)."""
    p = popen(qemu_pty_argv(elf_path, link), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    m = re.match(r"char device redirected to (/dev/pts/\d+) \(label serial0\)", line)
    if not m:
        p.kill()
        raise RuntimeError(f"QEMU did not announce its pty: {line!r} {p.communicate()}")
    return Device(p, m.group(1))


@pytest.fixture
def token_link(tmp_path):
    token = Token(tmp_path, label="certwiz-mps2")
    link = TokenLink(token)
    yield link
    link.close()


def test_the_token_is_reached_over_uart1(elf, token_link):
    """login, the token's identity, a key generated by `request` in SoftHSM2 on the PC and found
    there by pkcs11-tool; the wrong PIN gets the token's own answer."""
    b = Board(elf, extra=token_link.qemu_args())
    try:
        assert "no token on UART1" not in b.banner
        out = b.cmd("status")
        assert any(l.startswith("token: certwiz-mps2 (serial ") and l.endswith("user logged out") for l in out), out
        assert b.login("9999")[-1].startswith("ERR CKR_PIN_INCORRECT"), "the token's own answer"
        before = token_link.counters()
        assert b.login("1234")[-1] == "OK"
        after = token_link.counters()
        print(f"login over UART1: {after['calls'] - before['calls']} calls, "
              f"{after['bytes_out'] - before['bytes_out']} + {after['bytes_in'] - before['bytes_in']} bytes")
        assert b.cmd("keys")[-2:] == ["0 key pairs", "OK"]
    finally:
        b.close()


def uptime(board):
    """The board's SysTick clock, in seconds (`status`)."""
    line = next(l for l in board.cmd("status") if l.startswith("uptime: "))
    return float(line.split()[1])


def test_link_loss_is_a_named_error_and_a_login_reconnects(elf, token_link):
    """The PC side's server killed mid-session: the next token command ends with a named error
    within the reply timeout (CW_P11_RPC_REPLY_MS, 5 s; a UART hears only silence); once the server
    is back, `login` opens the token afresh and the commands work again."""
    b = Board(elf, extra=token_link.qemu_args())
    if os.environ.get("CW_MPS2_TRACE"):
        import sys
        b.p.logfile_read = sys.stdout
    try:
        assert b.login("1234")[-1] == "OK"
        assert b.cmd("keys")[-1] == "OK"
        up0 = uptime(b)  # (status asks the token: before the kill)
        token_link.kill()
        t0 = time.monotonic()
        out = b.cmd("keys", timeout=30)
        took = time.monotonic() - t0
        board_took = uptime(b) - up0  # the board's own clock: QEMU's ticks lag on a busy PC
        print(f"link loss: {out[-1]} after {board_took:.1f} s of the board's clock ({took:.1f} s here)")
        assert out[-1] == "ERR CKR_DEVICE_ERROR: The token device reports an error.", out
        assert 4.5 < board_took < 5 + 1.5, board_took
        assert took < 15, took
        # still broken: answered at once, nothing sent
        t0 = time.monotonic()
        assert b.cmd("keys")[-1].startswith("ERR CKR_DEVICE_ERROR")
        assert time.monotonic() - t0 < 1.5
        # nobody there yet: the login says why the link broke, and by name that nobody answers
        # (the handshake's 0.5 s), and again
        out = b.login("1234")
        assert out[-1].startswith("ERR NO_TOKEN"), out
        assert any("the token link broke: no reply in time" in l for l in out), out
        assert any("nothing answered the p11-kit handshake" in l for l in out), out
        out = b.cmd("login")
        assert out[-1].startswith("ERR NO_TOKEN"), out
        assert any("nothing answered the p11-kit handshake" in l for l in out), out
        token_link.start()
        assert b.login("1234")[-1] == "OK"
        assert b.cmd("keys")[-2:] == ["0 key pairs", "OK"]
        assert any(l.endswith("user logged in") for l in b.cmd("status"))
    finally:
        b.close()


def test_a_board_booted_without_its_token_uses_it_at_the_next_login(elf, token_link):
    """Nothing answers on UART1 at boot (the PC side not started yet): the board boots at once and
    names the missing token; once the server is there, `login` opens the token, no reboot, and
    what the token holds (a topology stored there before, by the host board) is read then."""
    from conftest import start_device
    from offline_pki import topology_pem
    tok = token_link.token
    dev = start_device(*tok.args(), env=tok.env)
    try:
        assert dev.cwctl("login", pin_file=tok.pin_file).returncode == 0
        pem, _ = topology_pem(tok.dir, "00" * 32)
        r = dev.cwctl("topology", "load", extra=("--input", str(pem)))
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        dev.stop()
    token_link.kill()
    b = Board(elf, extra=token_link.qemu_args())
    try:
        assert "no token on UART1: nothing answered the p11-kit handshake" in b.banner, b.banner
        assert b.cmd("keys")[-1].startswith("ERR NO_TOKEN")
        assert b.cmd("topology show")[-1].startswith("ERR NO_TOKEN")  # the reason, not "no topology"
        out = b.cmd("login")
        assert out[-1].startswith("ERR NO_TOKEN"), out  # still nobody there: asked again, named
        assert any("nothing answered the p11-kit handshake" in l for l in out), out
        token_link.start()
        assert b.login("1234")[-1] == "OK"
        assert b.cmd("keys")[-2:] == ["0 key pairs", "OK"]
        status = b.cmd("status")
        assert any(l.startswith("token: certwiz-mps2 (serial ") for l in status), status
        shown = b.cmd("topology show")
        assert shown[-1] == "OK" and any("public-offline" in l for l in shown), shown
    finally:
        b.close()


def test_make_run_starts_the_token_server_and_keeps_the_token(elf, tmp_path):
    """`make run`'s script: a SoftHSM2 token made under the given directory the first time (PIN
    1234), served by p11-kit server on UART1; the second run finds what the first stored."""
    env = {**os.environ, "MPS2_TOKEN_DIR": str(tmp_path / "tok"), "QEMU": QEMU}

    def run():
        p = pexpect.spawn("sh", [str(ROOT / "board/mps2-an386/run-with-token.sh"), str(elf_path)], env=env,
                          encoding="utf-8", codec_errors="replace", timeout=30, cwd=str(ROOT))
        p.expect(PROMPT)
        return p

    elf_path = elf
    p = run()
    try:
        assert "made the SoftHSM2 token 'certwiz-mps2'" in p.before
        p.send("login\r")
        p.expect("PIN")
        p.send("1234\r")
        p.expect(r"\n(OK|ERR[^\r\n]*)\r*\n")
        assert p.match.group(1) == "OK"
        p.send("random-check\r")  # any word: the console answers, the board runs on
        p.expect(PROMPT)
    finally:
        p.sendcontrol("a")
        p.send("x")
        p.expect(pexpect.EOF)
    p = run()
    try:
        assert "made the SoftHSM2 token" not in p.before
        p.send("status\r")
        p.expect(r"token: certwiz-mps2 \(serial [0-9a-f]+\)")
    finally:
        p.sendcontrol("a")
        p.send("x")
        p.expect(pexpect.EOF)


def life_topology(tmp, scep_url, scep_sha256, offline_sha256):
    """Sets of every kind the board handles: `web` enrolled online over SCEP (RSA-2048; scepserver
    issues clientAuth only), `ext` (RSA-2048) and `ec` (P-256) offline."""
    from offline_pki import fingerprint_colons
    doc = {
        "version": 1,
        "appliance": {"host": "edge01.example.com", "site": "lab", "addresses": ["10.0.2.15"]},
        "subject": {"organization": "certwiz test", "country": "US"},
        "domains": ["example.com"],
        "caProfiles": [
            {"name": "lab", "protocol": "scep", "url": scep_url, "caFingerprint": fingerprint_colons(scep_sha256),
             "pollSeconds": 10},
            {"name": "offline", "protocol": "offline", "caFingerprint": fingerprint_colons(offline_sha256)},
        ],
        "sets": [
            {"name": "web", "roles": ["Web"], "caProfile": "lab", "eku": ["clientAuth"], "cn": "web.{domain}"},
            {"name": "ext", "roles": ["EdgeExternal"], "caProfile": "offline", "eku": ["serverAuth"],
             "cn": "ext.{domain}", "san": [{"dns": "ext.{domain}"}]},
            {"name": "ec", "roles": ["EdgeInternal"], "caProfile": "offline", "keyType": "ecP256",
             "eku": ["serverAuth"], "cn": "ec.{domain}", "san": [{"dns": "ec.{domain}"}]},
        ],
    }
    return compile_topology(doc, tmp, "life")


def test_the_whole_life_on_the_target(elf, tmp_path):
    """Issue 19's item 3 on the emulated Cortex-M4 with its token on UART1: SNTP time from chronyd,
    login, topology load, offline RSA and EC requests answered by `openssl ca` and imported,
    `ca auth` and an online SCEP enrolment against scepserver, every role assigned; an idle board
    sends nothing on UART1 for ten seconds; a second boot shows the stored state. The bytes and
    requests on UART1 per operation, the arena and stack high-water marks are written to
    build/mps2-an386/uart1-costs.json for `make bench`."""
    from ntp_lab import chrony_argv, need_chrony, wait_ntp
    from offline_pki import OfflineCA, csr_of
    from scep_fixture import ScepServer
    need_chrony()
    challenge = "s3cret-Challenge"
    offline = OfflineCA(tmp_path)
    token = Token(tmp_path, label="certwiz-mps2")
    link = TokenLink(token)
    costs = {}
    try:
        with ScepServer(tmp_path / "scep", key_size=2048, challenge=challenge) as ca:
            ca.popen_in_ns(chrony_argv(tmp_path / "chrony"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_ntp(ca.run_in_ns)
            der = life_topology(tmp_path, ca.device_url, ca.ca_sha256, offline.root_sha256)
            (tmp_path / "challenge").write_text(challenge + "\n")

            def measured(name, *args, extra=(), ok=True, **kw):
                before = link.counters()
                t0 = time.monotonic()
                r = dev.cwctl(*args, extra=extra, timeout=180, **kw)
                after = link.counters()
                if name:
                    costs[name] = {k: after[k] - before[k] for k in after}
                    costs[name]["seconds_here"] = round(time.monotonic() - t0, 2)
                if ok:
                    assert r.returncode == 0, r.stdout + r.stderr
                return r

            def paste_import(name, leaf):
                f = tmp_path / f"{name}.in"
                f.write_text(offline.bundle(leaf, "int", "root"))
                return measured(f"import {name} (offline answer)", "import", name, extra=("--paste", str(f)))

            dev = start_qemu_device(elf, link, popen=ca.popen_in_ns)
            try:
                end = time.monotonic() + 60
                while "clock source: sntp" not in (st := dev.cwctl("status").stdout) and time.monotonic() < end:
                    time.sleep(1)
                assert "clock source: sntp" in st, st
                measured("login", "login", pin_file=token.pin_file)
                measured("topology load", "topology", "load", str(der))
                for name, kind in (("ext", "RSA-2048"), ("ec", "P-256")):
                    r = measured(f"request {name} offline ({kind})", "request", name, "offline")
                    csr = csr_of(r.stdout)
                    v = subprocess.run(["openssl", "req", "-verify", "-noout"], input=csr, capture_output=True,
                                       text=True)
                    assert v.returncode == 0, v.stderr  # signed in the token on the PC, verified here
                    paste_import(name, offline.sign(csr, name))
                r = measured("ca auth", "ca", "auth", "--profile", "lab", "--yes")
                assert "matches the fingerprint the topology pins" in r.stdout, r.stdout
                r = measured("request web online (SCEP, RSA-2048)", "request", "--set", "web", "--online",
                             extra=("--challenge-file", str(tmp_path / "challenge")))
                assert "reply verified: SUCCESS" in r.stdout and "role Web assigned to set web" in r.stdout, r.stdout
                roles = dev.cwctl("roles").stdout
                for role, s in (("Web", "web"), ("EdgeExternal", "ext"), ("EdgeInternal", "ec")):
                    assert f"role {role}: set {s}, assigned" in roles, roles
                mem = dev.cwctl("mem").stdout
                arena = re.search(r"^arena: size (\d+), .* high-water (\d+) in", mem, re.M)
                stack = re.search(r"^stack: size (\d+), high-water (\d+)", mem, re.M)
                assert arena and stack, mem
                costs["arena high-water"] = int(arena.group(2))
                costs["stack high-water"] = int(stack.group(2))
                # idle, logged in, topology loaded, three certificates: not a byte on UART1
                before = link.counters()
                time.sleep(10)
                assert link.counters() == before, (before, link.counters())
                assert dev.stop()[0] == 0
                # a second boot reads the stored state back from the token (public records: no login)
                dev = start_qemu_device(elf, link, popen=ca.popen_in_ns)
                roles = dev.cwctl("roles").stdout
                for role, s in (("Web", "web"), ("EdgeExternal", "ext"), ("EdgeInternal", "ec")):
                    assert f"role {role}: set {s}, assigned" in roles, roles
                assert "CN=web.example.com" in roles and "CN=ec.example.com" in roles, roles
            finally:
                dev.stop()
        # the keys never left the token: pkcs11-tool on the PC finds them sensitive, never extractable
        out = token.tool("-O")
        assert out.count("Private Key Object") == 3, out
        assert out.count("never extractable") >= 3, out
    finally:
        link.close()
    for k, v in costs.items():
        if isinstance(v, dict):
            v["line_seconds_115200"] = round((v["bytes_out"] + v["bytes_in"]) * 10 / LINE_BAUD, 3)
        print(f"UART1 {k}: {v}")
    (BUILD / "uart1-costs.json").write_text(json.dumps(costs, indent=1) + "\n")


# An SNTP server for the renewal test: answers on 127.0.0.1:123 with this PC's time plus the
# seconds in the file argv[1] (read at every request), echoing the request's transmit stamp as the
# originate stamp, as lwIP's client checks (SNTP_CHECK_RESPONSE 2). chronyd cannot serve a time
# other than its own clock.
_SNTP_AHEAD = r"""
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 123))
while True:
    req, peer = s.recvfrom(512)
    if len(req) < 48:
        continue
    t = time.time() + float(open(sys.argv[1]).read().strip() or 0) + 2208988800
    stamp = struct.pack(">II", int(t), int((t % 1) * 2**32))
    s.sendto(bytes([0x24, 1, 4, 0xec]) + bytes(8) + b"LOCL" + stamp + req[40:48] + stamp + stamp, peer)
"""


def test_automatic_renewal_on_the_target(elf, tmp_path):
    """The lifecycle on the board with its token on UART1: a set enrolled over SCEP with a one-day
    certificate (scepserver -crtvalid 1, no challenge for renewals) is renewed in the background
    (RenewalReq, a new key in the token) once the board's clock says it is due. The board's clock
    comes from SNTP; the test's SNTP server runs 20.5 hours ahead after a reboot (past every
    one-day certificate's renewal time with its jitter, test_lifecycle.py's PAST_DUE)."""
    import sys
    from ntp_lab import need_chrony
    from scep_fixture import ScepServer
    need_chrony()  # root: a network namespace and port 123
    offset = tmp_path / "sntp-offset"
    offset.write_text("0\n")
    (tmp_path / "challenge").write_text("unused\n")  # the CA asks none; the console still prompts
    token = Token(tmp_path, label="certwiz-mps2")
    link = TokenLink(token)

    def cert_ids():
        """The CKA_IDs of set web's certificates in the token (pkcs11-tool on the PC)."""
        from test_scep import set_objects
        return {i for k, i in set_objects(token, "web") if k == "Certificate"}

    def wait_sntp(dev):
        end = time.monotonic() + 60
        while "clock source: sntp" not in (st := dev.cwctl("status").stdout) and time.monotonic() < end:
            time.sleep(1)
        assert "clock source: sntp" in st, st

    try:
        with ScepServer(tmp_path / "scep", key_size=2048, challenge=None, crtvalid="1") as ca:
            ca.popen_in_ns([sys.executable, "-c", _SNTP_AHEAD, str(offset)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            der = life_topology(tmp_path, ca.device_url, ca.ca_sha256, ca.ca_sha256)
            dev = start_qemu_device(elf, link, popen=ca.popen_in_ns)
            try:
                wait_sntp(dev)
                for args in (("login",), ("topology", "load", str(der)), ("ca", "auth", "--profile", "lab", "--yes"),
                             ("request", "--set", "web", "--online")):
                    r = dev.cwctl(*args, pin_file=token.pin_file if args == ("login",) else None, timeout=180,
                                  extra=("--challenge-file", str(tmp_path / "challenge")))
                    assert r.returncode == 0, (args, r.stdout + r.stderr)
                old = cert_ids()
                assert len(old) == 1, old
                assert dev.stop()[0] == 0
                # the second boot's clock is 20.5 h ahead: the console (pexpect) shows the notices
                offset.write_text(str(int(20.5 * 3600)) + "\n")
                b = Board(elf, wrap=ca.ns_argv(["sh", "-c", "exec {qemu}"]), extra=link.qemu_args())
                try:
                    end = time.monotonic() + 60
                    while not any(l.startswith("clock source: sntp") for l in b.cmd("status")):
                        assert time.monotonic() < end, "no SNTP answer"
                        time.sleep(1)
                    assert b.login("1234")[-1] == "OK"
                    b.p.expect(r"notice: set web: renewal due: renewing in the background \(SCEP, new key\)",
                               timeout=60)
                    b.p.expect(r"notice: set web: renewed in the background; its roles use the new certificate",
                               timeout=120)
                    # the new certificate is due at once too (the board's clock runs 20.5 h ahead of
                    # the CA's): the board renews again; the first renewal is what is checked, and a
                    # power cut in the next one leaves the old or the new certificate (decisions.md)
                finally:
                    b.close()
                new = cert_ids()
                assert new and new != old, (old, new)
                from test_scep import token_objects
                assert not [o for o in token_objects(token) if o[2] in old], "the old key and certificate are gone"
                dev = start_qemu_device(elf, link, popen=ca.popen_in_ns)
                roles = dev.cwctl("roles").stdout
                assert "role Web: set web, assigned" in roles, roles
            finally:
                dev.stop()
    finally:
        link.close()
