"""The autonomous lifecycle (issue 18): trusted time, renewal on its own, back-off, expiry alerts.

Against the real micromdm scepserver with one-day certificates (`-crtvalid 1`). The device's clock
is moved by the host board's test option `--clock-offset @FILE`: the RTC runs FILE's number of
seconds ahead of this PC, read again at every RTC read, so the test makes the device's clock jump
forward to where a renewal is due, and back. The CA's clock is this PC's, as it would be.
"""
import re
import subprocess
import time

import pytest

from conftest import SOFTHSM_MODULE, Token
from scep_fixture import ScepServer
from test_scep import CHALLENGE, Edge, check_issued, set_objects, site

DAY = 86400
# renewPercent 80 (the default) of a one-day certificate: 19.2 h; the jitter adds up to a quarter
# of the remaining 4.8 h. Past 20.4 h every one-day certificate is due.
PAST_DUE = int(20.5 * 3600)


class ClockEdge(Edge):
    """An Edge whose RTC runs as far ahead as the file says (0 at first)."""

    def __init__(self, ca, token, tmp, extra=()):
        self.offset_file = tmp / "clock-offset"
        self.offset_file.write_text("0\n")
        self.extra = extra
        super().__init__(ca, token, tmp)

    def boot(self):
        self.dev = self.ca.start_device("--module", SOFTHSM_MODULE, "--token", f"pkcs11:token={self.token.label}",
                                        "--clock-offset", f"@{self.offset_file}", *self.extra, env=self.token.env)
        r = self.dev.cwctl("login", pin_file=self.token.pin_file)
        assert r.returncode == 0, r.stderr

    def set_offset(self, seconds):
        self.offset_file.write_text(f"{int(seconds)}\n")

    def status(self):
        r = self.cw("status")
        assert r.returncode == 0, r.stderr
        return r.stdout

    def life(self, name="web"):
        m = re.search(rf"^life: set {name}: (.*)$", self.status(), re.M)
        assert m, self.status()
        return m.group(1)

    def wait_life(self, pattern, name="web", timeout=60):
        end = time.monotonic() + timeout
        last = ""
        while time.monotonic() < end:
            last = self.life(name)
            if re.search(pattern, last):
                return last
            time.sleep(0.3)
        raise AssertionError(f"set {name} never matched {pattern!r}; last: {last!r}")


def cert_id(token, name="web"):
    ids = {i for k, i in set_objects(token, name) if k == "Certificate"}
    assert len(ids) == 1, set_objects(token, name)
    return ids.pop()


@pytest.fixture
def short_lab(tmp_path, token):
    """(ca, edge): scepserver issuing one-day certificates, no challenge for renewals (a CA that
    accepts a renewal signed with the current key), and a device with `web` enrolled."""
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=None, crtvalid="1") as ca:
        edge = ClockEdge(ca, token, tmp_path)
        try:
            edge.load(site(tmp_path, ca.device_url))
            edge.auth()
            r = edge.cw("request", "--set", "web", "--online")
            assert r.returncode == 0, r.stdout + r.stderr
            yield ca, edge
        finally:
            edge.stop()


def test_status_names_the_clock_source_and_the_set_schedule(short_lab):
    ca, edge = short_lab
    out = edge.status()
    assert re.search(r"^clock source: rtc, \d+ s since it last said the time$", out, re.M), out
    life = edge.life()
    # valid, with the renewal between 19.2 h and 20.4 h after notBefore
    m = re.match(r"valid; next: renewal at \S+ \(in (\d+) s\)$", life)
    assert m, life
    assert 19.2 * 3600 - 120 <= int(m.group(1)) <= 20.4 * 3600 + 5, life


def test_a_jump_of_the_clock_is_noticed_and_named(short_lab):
    ca, edge = short_lab
    edge.set_offset(-3 * 3600)
    end = time.monotonic() + 10
    while "clock jumped" not in (out := edge.status()) and time.monotonic() < end:
        time.sleep(0.2)
    assert re.search(r"^clock jumped: -10800 s, at \S+Z$", out, re.M), out


def test_the_set_renews_on_its_own_when_due_and_is_never_without_a_certificate(short_lab, token, tmp_path):
    ca, edge = short_lab
    old = cert_id(token)
    edge.set_offset(PAST_DUE)
    # due: the background renewal runs (RenewalReq, new key) and the role moves to the new one
    edge.wait_life(r"^(renewing|valid)", timeout=30)
    end = time.monotonic() + 60
    new = old
    while new == old and time.monotonic() < end:
        roles = edge.cw("roles")
        if roles.returncode == 0:
            assert "role Web: set web, " in roles.stdout
            assert "expired" not in roles.stdout and "none" not in roles.stdout.split("\n")[0]
        ids = {i for k, i in set_objects(token, "web") if k == "Certificate"}
        new = old if old in ids or len(ids) != 1 else ids.pop()
        time.sleep(0.3)
    edge.set_offset(0)  # back to this PC's time: the new certificate is young again
    assert new != old, "no renewal within 60 s"
    edge.wait_life(r"^valid; next: renewal at", timeout=30)
    check_issued(ca, token, tmp_path, "web")  # one key, one certificate, from the CA, for the key


def test_a_ca_that_is_down_gets_backed_off_retries_and_the_renewal_completes_when_it_returns(short_lab, token):
    ca, edge = short_lab
    old = cert_id(token)
    ca.stop()
    offset = PAST_DUE
    edge.set_offset(offset)
    waits = []
    for tries in range(1, 5):
        life = edge.wait_life(rf"next: retry at \S+ \(in \d+ s\); last error: HTTP_REFUSED, {tries} failed tr", timeout=60)
        waits.append(int(re.search(r"\(in (\d+) s\)", life).group(1)))
        assert ("; STUCK" in life) == (tries >= 3), life
        if tries < 4:
            # the clock moves past the next try: it is tried again
            offset += waits[-1] + 1
            edge.set_offset(offset)
    # each wait doubles (5, 10, 20, 40 min), less up to a random quarter
    for k, w in enumerate(waits):
        full = 300 * 2 ** k
        assert full * 3 // 4 - 2 <= w <= full, waits
    assert cert_id(token) == old  # the old certificate stays while the CA is down
    ca.start()
    edge.set_offset(offset + waits[-1] + 1)
    end = time.monotonic() + 60
    while time.monotonic() < end and old in {i for k, i in set_objects(token, "web") if k == "Certificate"}:
        time.sleep(0.3)
    edge.set_offset(0)  # this PC's time again: the new certificate is young
    edge.wait_life(r"^valid; next: renewal", timeout=30)
    assert cert_id(token) != old


def test_a_certificate_due_on_arrival_is_not_renewed_again_at_once(short_lab, token):
    """The CA's certificate is already due when it arrives (here: the device's clock is 20.5 h
    ahead of the CA's, and the CA issues one-day certificates; also a CA whose lifetime is shorter
    than the renewal share). Renewing it at once would get another one just as due: a renewal
    storm against the CA. The next renewal waits, backed off like a failure, and says why."""
    ca, edge = short_lab
    old = cert_id(token)
    edge.set_offset(PAST_DUE)
    life = edge.wait_life(r"next: renewal held back \(due on arrival\) at \S+ \(in \d+ s\)", timeout=60)
    assert cert_id(token) != old
    wait = int(re.search(r"\(in (\d+) s\)", life).group(1))
    assert 300 * 3 // 4 - 2 <= wait <= 300, life
    time.sleep(10)
    assert ca.server_log().count("RenewalReq") == 1, ca.server_log()
    assert edge.life().startswith("renewal due; next: renewal held back"), edge.life()
    # past the hold it renews again; the next certificate due on arrival is held back twice as long
    edge.set_offset(PAST_DUE + wait + 1)
    life = edge.wait_life(r"held back \(due on arrival\) at \S+ \(in (\d{3}) s\)", timeout=60)
    wait2 = int(re.search(r"\(in (\d+) s\)", life).group(1))
    assert 600 * 3 // 4 - 2 <= wait2 <= 600, life
    assert ca.server_log().count("RenewalReq") == 2, ca.server_log()
    # the clock back to the CA's: the certificate is young, nothing is held
    edge.set_offset(0)
    edge.wait_life(r"^valid; next: renewal at", timeout=30)


HOLE = """
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)  # accepted, never answered
"""


def test_while_a_background_renewal_runs_the_console_answers_and_the_slot_says_busy(short_lab, token, tmp_path):
    import sys
    ca, edge = short_lab
    # the CA moves to an address that accepts connections and never answers: the renewal waits
    # there for the HTTP idle timeout (20 s)
    hole = ca.popen_in_ns([sys.executable, "-c", HOLE], stdout=subprocess.PIPE, text=True)
    port = int(hole.stdout.readline())
    (tmp_path / "hole").mkdir()
    edge.load(site(tmp_path / "hole", f"http://10.0.2.2:{port}/scep"))
    edge.set_offset(PAST_DUE)
    end = time.monotonic() + 20
    while "job: background renewal of set web runs (scep: " not in (out := edge.status()):
        assert time.monotonic() < end, out
        time.sleep(0.2)
    assert edge.cw("version").returncode == 0
    r = edge.cw("renew", "--set", "web")
    assert r.returncode == 1 and "BUSY" in r.stderr, r.stdout + r.stderr
    assert re.search(r"^busy: background renewal of set web runs \(scep: \w+", r.stdout, re.M), r.stdout
    # it ends by its timeout, as a failed try with its error, and the old certificate stays
    edge.wait_life(r"last error: HTTP_IDLE_TIMEOUT, 1 failed try", timeout=40)
    assert "role Web: set web, " in edge.cw("roles").stdout


def test_without_a_trusted_time_nothing_is_judged_or_scheduled(short_lab, token):
    ca, edge = short_lab
    edge.stop()
    edge.extra = ("--no-rtc",)
    edge.boot()
    out = edge.status()
    assert "clock: unknown (no RTC, no SNTP answer yet): validity is not judged (TIME_UNKNOWN)" in out
    assert "life: set web: time unknown" in out
    roles = edge.cw("roles").stdout
    assert "role Web: set web, assigned, validity not judged (TIME_UNKNOWN" in roles


def test_a_fleet_with_one_topology_spreads_its_renewals(tmp_path):
    """Eight devices, each its own token and key, one topology: their renewal times differ."""
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=CHALLENGE, crtvalid="1") as ca:
        der = site(tmp_path, ca.device_url)
        times = []
        for n in range(8):
            tok = Token(tmp_path / f"tok{n}", label=f"fleet{n}")
            d = tmp_path / f"dev{n}"
            d.mkdir()
            edge = Edge(ca, tok, d)
            try:
                edge.load(der)
                edge.auth()
                r = edge.cw("request", "--set", "web", "--online")
                assert r.returncode == 0, r.stdout + r.stderr
                out = edge.cw("status").stdout
                m = re.search(r"^life: set web: valid; next: renewal at (\S+) \(in (\d+) s\)", out, re.M)
                assert m, out
                times.append(int(m.group(2)) + int(time.time()))
            finally:
                edge.stop()
        spread = max(times) - min(times)
        assert len(set(t // 60 for t in times)) >= 6, times  # at most a few share a minute
        assert spread >= 600, times


# ---- offline sets: alerts, a new key and CSR at the threshold, the old certificate kept ----------

def test_an_offline_set_gets_expiry_alerts_and_a_new_csr_when_due_and_keeps_its_certificate(token, tmp_path):
    from offline_pki import OfflineCA, csr_of, topology_pem
    from conftest import start_device

    ca = OfflineCA(tmp_path)
    offset = tmp_path / "clock-offset"
    offset.write_text("0\n")
    events = tmp_path / "events"
    dev = start_device("--module", SOFTHSM_MODULE, "--token", f"pkcs11:token={token.label}",
                       "--clock-offset", f"@{offset}",
                       "--on-change", f'echo "$CW_EVENT $CW_ROLE $CW_SET" >> {events}', env=token.env)
    try:
        assert dev.cwctl("login", pin_file=token.pin_file).returncode == 0
        pem, _ = topology_pem(tmp_path, ca.root_sha256)
        assert dev.cwctl("topology", "load", extra=("--input", str(pem))).returncode == 0
        csr = csr_of(dev.cwctl("request", "external", "offline").stdout)
        leaf = ca.sign(csr, "external", days=90)
        f = tmp_path / "answer.pem"
        f.write_text(ca.bundle(leaf, "int", "root"))
        r = dev.cwctl("import", "external", extra=("--paste", str(f)), timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        old = {i for k, l, i in _objects(token) if k == "Certificate" and l == "external"}

        def life():
            out = dev.cwctl("status").stdout
            return re.search(r"^life: set external: (.*)$", out, re.M).group(1)

        def wait(pred, what, timeout=20):
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                if pred():
                    return
                time.sleep(0.3)
            raise AssertionError(f"{what}; life: {life()}; events: {_read(events)}")

        # renewPercent 70 of 90 days, plus up to a quarter of the 27 days left: by day 69.75
        assert re.match(r"valid; next: renewal at \S+ \(in \d+ s\)$", life())
        offset.write_text(f"{31 * DAY}\n")  # 59 days left: the 60-day alert
        wait(lambda: "expiring EdgeExternal external" in _read(events), "no 60-day alert")
        assert _read(events).count("expiring") == 1
        offset.write_text(f"{70 * DAY}\n")  # past the renewal time, 20 days left: the 30-day alert
        wait(lambda: "renewing; next: import of the new certificate" in life(), "no offline renewal")
        wait(lambda: _read(events).count("expiring") >= 3, "no 30-day alert and renewal event")
        # the new CSR is there; the role keeps the old certificate until the answer is imported
        new_csr = csr_of(dev.cwctl("csr", "external").stdout)
        assert new_csr != csr
        assert "role EdgeExternal: set external, expiring" in dev.cwctl("roles").stdout
        assert {i for k, l, i in _objects(token) if k == "Certificate" and l == "external"} == old
        leaf2 = ca.sign(new_csr, "external2", days=90)
        f.write_text(ca.bundle(leaf2, "int", "root"))
        offset.write_text("0\n")
        r = dev.cwctl("import", "external", extra=("--paste", str(f)), timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        now = {i for k, l, i in _objects(token) if k == "Certificate" and l == "external"}
        assert len(now) == 1 and now != old  # the old certificate and key are gone
        assert "renewed EdgeExternal external" in _read(events)
        wait(lambda: life().startswith("valid; next: renewal at"), "not valid after the import")
    finally:
        rc, err = dev.stop()
        assert rc == 0, err


def _objects(token):
    from test_offline import objects
    return objects(token)


def _read(path):
    return path.read_text() if path.exists() else ""


def test_a_ca_that_wants_the_challenge_for_renewals_refuses_and_the_set_says_so(tmp_path, token):
    """certwiz keeps no challenge, so its own renewals carry none; this scepserver wants one."""
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=CHALLENGE, crtvalid="1") as ca:
        edge = ClockEdge(ca, token, tmp_path)
        try:
            edge.load(site(tmp_path, ca.device_url))
            edge.auth()
            assert edge.cw("request", "--set", "web", "--online").returncode == 0
            old = cert_id(token)
            edge.set_offset(PAST_DUE)
            edge.wait_life(r"^renewal due; next: retry at .*last error: SCEP_BAD_REQUEST, 1 failed try", timeout=30)
            assert cert_id(token) == old  # refused: the old certificate stays, and no new key is left
            assert [k for k, _ in set_objects(token, "web")].count("Private Key") == 1
            # the operator renews with the challenge; the schedule starts again from the new one
            r = edge.cw("renew", "--set", "web")
            assert r.returncode == 0, r.stdout + r.stderr
            assert cert_id(token) != old
        finally:
            edge.stop()


# ---- SNTP: lwIP's client against chrony --------------------------------------------------------

def test_a_board_without_rtc_takes_its_time_from_sntp_and_then_judges_validity(tmp_path, token):
    from ntp_lab import chrony_argv, need_chrony, wait_ntp
    need_chrony()
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=CHALLENGE) as ca:
        edge = ClockEdge(ca, token, tmp_path, extra=("--no-rtc", "--ntp", "10.0.2.2"))
        try:
            # no RTC and no NTP server yet: the time is unknown, and enrolment refuses to judge
            out = edge.status()
            assert "clock: unknown (no RTC, no SNTP answer yet)" in out, out
            assert "sntp: 10.0.2.2, no answer yet; 0 answers taken" in out, out
            edge.load(site(tmp_path, ca.device_url))
            r = edge.cw("ca", "auth", "--profile", "lab", "--yes")
            assert r.returncode == 1 and "TIME_UNKNOWN" in r.stderr, r.stdout + r.stderr
            # chrony starts: lwIP's client asks again (5 s, then 10 s ...) and the time is known
            ca.popen_in_ns(chrony_argv(tmp_path / "chrony"), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            wait_ntp(ca.run_in_ns)
            end = time.monotonic() + 30
            while "clock source: sntp" not in (out := edge.status()) and time.monotonic() < end:
                time.sleep(0.5)
            assert re.search(r"^clock: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", out, re.M), out
            assert re.search(r"^sntp: 10\.0\.2\.2, answering; [1-9]\d* answers taken$", out, re.M), out
            m = re.search(r"^clock: (\S+)$", out, re.M)
            device = time.mktime(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
            assert abs(device - time.time()) < 5, (m.group(1), time.time())
            # with trusted time, the CA is judged and the set enrols
            edge.auth()
            r = edge.cw("request", "--set", "web", "--online")
            assert r.returncode == 0, r.stdout + r.stderr
            assert "role Web: set web, assigned" in edge.cw("roles").stdout
        finally:
            edge.stop()


def test_what_the_device_does_on_its_own_is_said_on_the_console(short_lab, token):
    """The console at its prompt, read as a terminal would (the pty itself, not cwctl)."""
    import os
    import select
    import termios
    import tty
    ca, edge = short_lab
    fd = os.open(edge.dev.port, os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd, termios.TCSANOW)
        edge.set_offset(PAST_DUE)
        seen = b""
        end = time.monotonic() + 30
        while b"due for renewal on arrival" not in seen and time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                seen += os.read(fd, 4096)
        while select.select([fd], [], [], 1.0)[0]:  # the rest, until the line is quiet
            seen += os.read(fd, 4096)
        edge.set_offset(0)
        text = seen.decode(errors="replace")
        assert "\r\nnotice: set web: renewal due: renewing in the background (SCEP, new key)\r\n" in text, text
        assert "\r\nnotice: set web: renewed in the background; its roles use the new certificate\r\n" in text, text
        # the clock is still 20.5 h ahead of the CA's: the new certificate is due already (decision 45)
        assert re.search(r"\r\nnotice: set web: its new certificate was due for renewal on arrival \(a short "
                         r"lifetime, or this clock ahead of the CA's\); next renewal in \d+ s\r\n", text), text
        assert text.endswith("certwiz> "), text  # the prompt again after each notice
    finally:
        os.close(fd)


def test_an_idle_device_with_a_schedule_makes_no_token_calls(short_lab):
    """Judging the schedule reads nothing from the token: `mem` counts the token calls since boot
    (and makes none itself)."""
    ca, edge = short_lab
    assert re.search(r"^life: set web: valid; next: renewal at", edge.status(), re.M)
    first = int(re.search(r"^token calls: (\d+) since boot$", edge.cw("mem").stdout, re.M).group(1))
    time.sleep(10)
    again = int(re.search(r"^token calls: (\d+) since boot$", edge.cw("mem").stdout, re.M).group(1))
    assert again == first, (first, again)
