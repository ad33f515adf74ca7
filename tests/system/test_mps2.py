"""The firmware on the Cortex-M4 board (issue 8): BOARD=mps2-an386 built with arm-none-eabi-gcc and
booted in QEMU's `-M mps2-an386`, the console on QEMU's stdio (a pty under pexpect), the LAN9118 on
QEMU's user networking (slirp: the PC's loopback is 10.0.2.2, DHCP gives 10.0.2.15).

Skipped, with the reason printed, only when qemu-system-arm or the cross compiler is absent (both
are in tools/deps/debian-packages.txt, so CI has them).
"""
import calendar
import hashlib
import http.server
import os
import shutil
import subprocess
import threading
import re
import shlex
import time

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

    def __init__(self, elf_path, wrap=None):
        """wrap: an argv in which "{qemu}" stands for the QEMU command line (a shell in a network
        namespace of its own, say)."""
        argv = qemu_argv(elf_path)
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
    # the board names the missing token at boot
    assert "no PKCS#11 provider on this board" in board.banner
    out = board.cmd("version")
    assert out[-1] == "OK"
    assert out[0].startswith("certwiz 0.1.0")
    assert out[1].startswith("board: mps2-an386 (Arm MPS2 AN386, Cortex-M4")
    assert "mbedTLS 3.6" in out[2] and "lwIP 2.2" in out[2]


def test_status_names_the_missing_token(board):
    out = board.cmd("status")
    assert out[-1] == "OK"
    assert "board: mps2-an386" in out
    assert "clock: unknown (no RTC, no SNTP answer yet): validity is not judged (TIME_UNKNOWN)" in out
    assert any(l.startswith("token: none (NO_TOKEN: ") for l in out), out
    # token commands answer the named error
    assert board.cmd("login") == ["ERR NO_TOKEN: No PKCS#11 token is available on this board."]


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
