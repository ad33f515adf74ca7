"""Power cuts (issue 15): the firmware is killed (SIGKILL, what a power cut does to a process) at
every token write of a request, and at random moments of a random mix of operations. After each
restart and login, no role that had a certificate has lost it, and the token holds nothing
half-made, unlabelled or orphaned, and still holds what another program put there.

Two ways to time a cut:
- at a token write: strace's fault injection (`-e inject=ftruncate:signal=SIGKILL:when=N`) kills
  the firmware when SoftHSM2 is about to rewrite an object file for the Nth time, so the token is
  left exactly as a power cut at that instant leaves it (SoftHSM2 writes an object in steps: its
  class, the class's defaults, the caller's template, the key material). The cut is real; strace
  only chooses the instant, which a random kill hits rarely.
- at random: SIGKILL after a random delay. The seed is printed; CW_CUT_SEED replays a run,
  CW_CUTS sets how many cuts (`make powercut CUTS=1000` runs a campaign).

Everything is checked with pkcs11-tool and by reading certwiz's records with asn1crypto. With
CW_TOKEN=tpm the random cuts run on a tpm2-pkcs11 token (its store is a sqlite file: a cut there is
sqlite's to survive); the cut at each write is SoftHSM2's (strace times it at its file writes).
"""
import os
import random
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from asn1crypto import core

from conftest import CERTWIZ, CWCTL
from offline_pki import OfflineCA, csr_of, topology_pem

FOREIGN = "made-by-pkcs11-tool"  # a key pair another program made: certwiz must never touch it
SETS = ("default", "external", "oauth")
ROLE_SET = {"Default": "default", "WebServicesInternal": "default", "EdgeExternal": "external",
            "OAuthTokenIssuer": "oauth"}
RECORD = re.compile(r"^certwiz\.(topology\.\d+|roles\.\d+|pending\.(?P<set>[A-Za-z0-9._-]+))$")


# ---- the token as other tools see it ------------------------------------------------------------

def inventory(token):
    """Every object: dict(kind, label, id, app), from pkcs11-tool -O (logged in)."""
    out = token.tool("-O")
    objs = []
    for block in re.split(r"\n(?=\S)", out.strip()):
        if not block.strip():
            continue
        head = block.splitlines()[0]
        kind = ("data" if head.startswith("Data object") else
                "cert" if head.startswith("Certificate Object") else
                "priv" if head.startswith("Private Key Object") else
                "pub" if head.startswith("Public Key Object") else head)
        label = re.search(r"^[ \t]+label:[ \t]*'?([^'\n]*?)'?[ \t]*$", block, re.M)
        oid = re.search(r"^[ \t]+ID:[ \t]+([0-9a-f]+)", block, re.M)
        app = re.search(r"^[ \t]+application:[ \t]+'([^']*)'", block, re.M)
        text = label.group(1) if label else ""
        objs.append({"kind": kind, "label": "" if text == "<empty>" else text,
                     "id": oid.group(1) if oid else "", "app": app.group(1) if app else ""})
    return objs


def read_data(token, label, tmp):
    f = tmp / "record.der"
    token.tool("--read-object", "--type", "data", "--label", label, "-o", str(f))
    return f.read_bytes()


class _Assignment(core.Sequence):
    _fields = [("role", core.UTF8String), ("set", core.UTF8String), ("cert_id", core.OctetString)]


class _RoleTable(core.SequenceOf):
    _child_spec = _Assignment


class _Pending(core.Sequence):  # docs/store.md PendingRequest; the rest is not needed here
    _fields = [("version", core.Integer), ("key_id", core.OctetString), ("created", core.Integer),
               ("csr", core.OctetString), ("online", core.Any, {"implicit": 0, "optional": True})]


def problems(token, tmp):
    """What is wrong with the token after a cut and a recovery: a list of sentences (empty: all
    right). Unlabelled or unknown objects, key halves without a partner, keys no pending request
    or certificate needs, certificates no role uses (but a set's newest while it has no role),
    records that are not the newest generation, a pending record without its key, and the
    foreign key pair gone."""
    objs = inventory(token)
    bad = []
    for o in objs:
        if o["label"] == "":
            bad.append(f"unlabelled {o['kind']} object")
    data = [o for o in objs if o["kind"] == "data"]
    for o in data:
        if o["app"] != "certwiz" or not RECORD.match(o["label"]):
            bad.append(f"unknown data object {o['label']!r} ({o['app']!r})")
    for base in ("topology", "roles"):
        gens = [o for o in data if o["label"].startswith(f"certwiz.{base}.")]
        if len(gens) > 1:
            bad.append(f"{len(gens)} generations of certwiz.{base}")
    roles = []
    rec = [o["label"] for o in data if o["label"].startswith("certwiz.roles.")]
    if rec:
        roles = [(a["role"].native, a["set"].native, a["cert_id"].native.hex())
                 for a in _RoleTable.load(read_data(token, rec[0], tmp))]
    pending = {}
    for o in data:
        m = RECORD.match(o["label"])
        if m and m.group("set"):
            pending[m.group("set")] = _Pending.load(read_data(token, o["label"], tmp))["key_id"].native.hex()
    keys = [o for o in objs if o["kind"] in ("priv", "pub")]
    foreign = [o for o in keys if o["label"] == FOREIGN]
    if sorted(o["kind"] for o in foreign) != ["priv", "pub"]:
        bad.append(f"the foreign key pair is not whole: {foreign}")
    for o in keys:
        if o["label"] == FOREIGN:
            continue
        if o["label"] not in SETS:
            bad.append(f"unknown {o['kind']} key {o['label']!r}")
            continue
        partner = "pub" if o["kind"] == "priv" else "priv"
        if not any(k["kind"] == partner and k["id"] == o["id"] and k["label"] == o["label"] for k in keys):
            bad.append(f"{o['kind']} key of {o['label']} ({o['id']}) without its other half")
    certs = [o for o in objs if o["kind"] == "cert"]
    for o in certs:
        if o["label"] not in SETS and o["label"] not in ("ca:public-offline", "ca:lab-scep"):
            bad.append(f"unknown certificate {o['label']!r}")
    for s in SETS:
        set_keys = {o["id"] for o in keys if o["label"] == s and o["kind"] == "priv"}
        set_certs = {o["id"] for o in certs if o["label"] == s}
        used = {cid for _, rs, cid in roles if rs == s}
        wanted = set(used) | ({pending[s]} if s in pending else set())
        if not used and set_certs:
            wanted |= set_certs if len(set_certs) == 1 else set()  # "issued", no role yet: its newest
        for k in set_keys - wanted - set_certs:
            bad.append(f"key {k} of set {s}: no pending request or certificate needs it")
        for c in set_certs - wanted:
            bad.append(f"certificate {c} of set {s}: no role uses it")
        if s in pending and pending[s] not in set_keys:
            bad.append(f"pending request of set {s} without its key {pending[s]}")
        for r, rs, cid in roles:
            if rs == s and cid not in set_certs:
                bad.append(f"role {r} points at certificate {cid}, which is not in the token")
    return bad


# ---- a device on a prepared token ---------------------------------------------------------------

class Lab:
    """A token (the run's kind: conftest.py) with the example topology loaded (public-offline
    pinned to the test PKI's root) and a key pair made by pkcs11-tool."""

    def __init__(self, tmp, token):
        self.tmp = tmp
        self.token = token
        self.ca = OfflineCA(tmp)
        self.topology, _ = topology_pem(tmp, self.ca.root_sha256)
        self.token.tool("--keypairgen", "--key-type", "EC:prime256v1", "--label", FOREIGN, "--id", "f0")

    def start(self, wrap=(), args=()):
        # its own process group: a signal reaches the firmware under strace too
        proc = subprocess.Popen([*wrap, str(CERTWIZ), "--uart", "pty", *self.token.args(), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.token.env,
                                start_new_session=True)
        line = proc.stdout.readline()
        m = re.search(r"console on (/dev/pts/\d+)", line)
        if not m:
            proc.kill()
            raise RuntimeError(f"certwiz did not start: {line!r} {proc.communicate()!r}")
        self.proc, self.port = proc, m.group(1)
        return self

    def cw(self, *args, extra=(), timeout=60, check=True):
        r = subprocess.run([str(CWCTL), "--port", self.port, "--timeout", "20", *extra, *args],
                           capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r

    def login(self):
        return self.cw("login", extra=("--pin-file", str(self.token.pin_file)))

    def _signal(self, sig):
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self):
        self._signal(signal.SIGTERM)
        try:
            self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.proc.communicate()

    def kill(self):
        """The power cut."""
        self._signal(signal.SIGKILL)
        self.proc.communicate()

    def roles(self):
        """{role: state} as `roles` says. A job that holds the scratch the read needs (a renewal
        the boot's clock made due) makes `roles` answer BUSY until it ends (docs/lifecycle.md):
        asked again then, within a minute."""
        end = time.monotonic() + 60
        while True:
            r = self.cw("roles", check=False)
            if r.returncode == 0 or "BUSY" not in r.stderr or time.monotonic() > end:
                break
            time.sleep(0.5)
        assert r.returncode == 0, (r.stdout, r.stderr)
        return dict(re.findall(r"^role (\S+): set \S+, (\S+)$", r.stdout, re.M))

    def answer(self, s, name):
        """The CA's answer to the set's pending CSR, as a PEM bundle file, or None."""
        r = self.cw("csr", s, check=False)
        if r.returncode != 0:
            return None
        leaf = self.ca.sign(csr_of(r.stdout), name)
        f = self.tmp / f"{name}.pem"
        f.write_text(self.ca.bundle(leaf, "int", "root"))
        return f


def held(states):
    return {r for r, st in states.items() if st in ("assigned", "expiring")}


@pytest.fixture
def lab(tmp_path, token):
    lab = Lab(tmp_path, token)
    lab.start()
    try:
        lab.login()
        lab.cw("topology", "load", extra=("--input", str(lab.topology)))
    finally:
        lab.stop()
    return lab


def ftruncates(trace):
    return sum(1 for line in Path(trace).read_text().splitlines() if "ftruncate(" in line)


# ---- a cut at every token write of a request -----------------------------------------------------

@pytest.mark.softhsm_only("strace times the cut at SoftHSM2's object-file writes")
@pytest.mark.parametrize("set_name", ["oauth", "external"])
def test_cut_at_each_token_write_of_a_request_leaves_nothing_behind(lab, tmp_path, set_name):
    """`request <set> offline` (EC P-256 and RSA-2048 key generation, CSR, pending record), cut
    at every other object write SoftHSM2 makes for it. After each restart and login: nothing
    half-made is left (SoftHSM2 shows an object cut during creation with its class's defaults and
    no label), and either the request is whole (key pair + pending record) or nothing of it is."""
    template = tmp_path / "template"
    shutil.copytree(lab.token.dir / "tokens", template)

    def reset():
        shutil.rmtree(lab.token.dir / "tokens")
        shutil.copytree(template, lab.token.dir / "tokens")

    # how many object writes the login and the request make, uncut
    trace = tmp_path / "strace.txt"
    lab.start(wrap=("strace", "-f", "--seccomp-bpf", "-o", str(trace), "-e", "trace=ftruncate"))
    lab.login()
    after_login = ftruncates(trace)
    lab.cw("request", set_name, "offline")
    total = ftruncates(trace)
    lab.stop()
    assert total - after_login > 20, "SoftHSM2 wrote fewer objects than a request needs"

    seen_half_made = 0
    for n in range(after_login + 1, total + 1, 2):
        reset()
        # (not --seccomp-bpf: strace 6.1 then misses the injection)
        lab.start(wrap=("strace", "-f", "-o", "/dev/null", "-e", "trace=ftruncate",
                        "-e", f"inject=ftruncate:signal=SIGKILL:when={n}"))
        lab.login()
        r = lab.cw("request", set_name, "offline", check=False)
        assert r.returncode != 0, f"the cut at object write {n - after_login} did not happen"
        lab.kill()  # strace has killed the firmware; this collects it (and strace)
        seen_half_made += sum(1 for o in inventory(lab.token) if o["label"] == "")
        lab.start()
        try:
            lab.login()
            bad = problems(lab.token, tmp_path)
            assert bad == [], f"cut at object write {n - after_login} of {total - after_login}: {bad}"
            pend = [o for o in inventory(lab.token) if o["label"] == f"certwiz.pending.{set_name}"]
            state = lab.roles()[next(r for r, s in ROLE_SET.items() if s == set_name)]
            assert state == ("pending" if pend else "none"), state
        finally:
            lab.stop()
    # the cuts did reach the moment that leaves SoftHSM2's half-made objects behind
    assert seen_half_made > 0
    print(f"{set_name}: {len(range(after_login + 1, total + 1, 2))} cuts, {seen_half_made} half-made objects "
          "left by SoftHSM2 and removed at the next login")


# ---- random cuts in a random life ---------------------------------------------------------------

def test_random_power_cuts_lose_no_role_and_leave_no_orphan(lab, tmp_path):
    cuts = int(os.environ.get("CW_CUTS", "100"))
    seed = int(os.environ.get("CW_CUT_SEED", str(random.SystemRandom().randrange(1 << 32))))
    print(f"power-cut campaign: {cuts} cuts, seed {seed} (CW_CUT_SEED={seed} replays it)")
    rnd = random.Random(seed)
    lost = []
    orphans = []
    n_answer = 0
    lab.start()
    lab.login()
    before = lab.roles()
    for cut in range(cuts):
        # what to do, prepared before the clock starts
        op = rnd.choice(["request", "request", "import", "import", "assign", "topology"])
        s = rnd.choice(SETS)
        if op == "request":
            args, extra = ("request", s, "offline"), ()
        elif op == "import":
            n_answer += 1
            f = lab.answer(s, f"answer{n_answer}")
            if f is None:
                args, extra = ("request", s, "offline"), ()
            else:
                args, extra = ("import", "--set", s, str(f)), ()
        elif op == "assign":
            role = rnd.choice(sorted(ROLE_SET))
            args, extra = ("assign", role, rnd.choice(SETS)), ()
        else:
            args, extra = ("topology", "load"), ("--input", str(lab.topology))
        held_before = held(before)
        cmd = subprocess.Popen([str(CWCTL), "--port", lab.port, "--timeout", "20", *extra, *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.0, 0.7))
        lab.kill()
        cmd.wait(timeout=30)
        lab.start()
        lab.login()
        after = lab.roles()
        gone = held_before - held(after)
        if gone:
            lost.append((cut, op, s, sorted(gone)))
        before = after
    lab.stop()
    # a last restart: what the recovery leaves must be clean
    lab.start()
    try:
        lab.login()
        orphans = problems(lab.token, tmp_path)
    finally:
        lab.stop()
    print(f"{cuts} cuts, {len(lost)} roles lost, {len(orphans)} orphans (seed {seed})")
    assert lost == [], f"roles lost (seed {seed}): {lost}"
    assert orphans == [], f"after {cuts} cuts (seed {seed}): {orphans}"


# ---- random cuts in the whole life: online, offline, assign, automatic and manual renewal -------

def _online_topology(text, url):
    """The example topology with lab-scep at url and `default` asking for clientAuth only (the one
    EKU scepserver issues)."""
    text = text.replace('"url": "http://10.0.2.2:8080/scep"', f'"url": "{url}"')
    return re.sub(r'("name": "default",.*?"eku": \[)[^\]]*\]', r'\1"clientAuth"]', text, count=1, flags=re.S)


def test_random_power_cuts_over_the_whole_life_lose_no_role_and_leave_no_orphan(tmp_path, token):
    """scepserver (one-day certificates, renewals without a challenge) serves the SCEP set
    `default`; `openssl ca` the offline sets. The device's clock is moved (--clock-offset @FILE, a
    test option) past the SCEP certificate's renewal time at random, so that automatic renewals
    run, and is cut at random moments of every step of the life."""
    from scep_fixture import ScepServer
    cuts = int(os.environ.get("CW_LIFE_CUTS", os.environ.get("CW_CUTS", "200")))
    seed = int(os.environ.get("CW_CUT_SEED", str(random.SystemRandom().randrange(1 << 32))))
    print(f"whole-life power cuts: {cuts} cuts, seed {seed} (CW_CUT_SEED={seed} replays it)")
    rnd = random.Random(seed)
    with ScepServer(tmp_path / "scep", key_size=2048, challenge=None, crtvalid="1") as ca:
        lab = Lab(tmp_path, token)
        lab.topology, _ = topology_pem(tmp_path, lab.ca.root_sha256,
                                       mutate=lambda t: _online_topology(t, ca.device_url))
        offset = tmp_path / "clock-offset"
        offset.write_text("0\n")
        challenge = tmp_path / "challenge"
        challenge.write_text("unused-by-this-ca\n")
        wrap = ca.ns_argv([])
        args = ("--clock-offset", f"@{offset}")
        online = ("--challenge-file", str(challenge))

        def boot():
            lab.start(wrap=wrap, args=args)
            lab.login()

        boot()
        lab.cw("topology", "load", extra=("--input", str(lab.topology)))
        lab.cw("ca", "auth", "--profile", "lab-scep", "--yes")
        lab.cw("request", "--set", "default", "--online", extra=online)
        before = lab.roles()
        lost, n_answer, ops = [], 0, {}
        for cut in range(cuts):
            op = rnd.choice(["online", "offline", "import", "import", "assign", "renew", "auto", "auto"])
            ops[op] = ops.get(op, 0) + 1
            s = rnd.choice(("external", "oauth"))
            extra = ()
            if op == "online":
                args_ = ("request", "--set", "default", "--online")
                extra = online
            elif op == "renew":
                args_ = ("renew", "--set", "default")
                extra = online
            elif op == "offline":
                args_ = ("request", s, "offline")
            elif op == "import":
                n_answer += 1
                f = lab.answer(s, f"answer{n_answer}")
                args_ = ("import", "--set", s, str(f)) if f else ("request", s, "offline")
            elif op == "assign":
                args_ = ("assign", rnd.choice(sorted(ROLE_SET)), rnd.choice(SETS))
            else:  # the clock passes the renewal time: the device renews on its own
                offset.write_text(f"{int(20.5 * 3600)}\n")
                args_ = ("status",)
            held_before = held(before)
            cmd = subprocess.Popen([str(CWCTL), "--port", lab.port, "--timeout", "20", *extra, *args_],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rnd.uniform(0.0, 2.5 if op == "auto" else 1.0))
            lab.kill()
            cmd.wait(timeout=30)
            if rnd.random() < 0.5:
                offset.write_text("0\n")  # the clock back: whatever was under way resumes or waits
            boot()
            after = lab.roles()
            gone = held_before - held(after)
            if gone:
                lost.append((cut, op, sorted(gone)))
            before = after
        # the end: the clock back, whatever runs finishes, a last restart and the token as it is
        offset.write_text("0\n")
        end = time.monotonic() + 60
        while "job: " in lab.cw("status").stdout and time.monotonic() < end:
            time.sleep(0.5)
        lab.stop()
        boot()
        try:
            orphans = problems(lab.token, tmp_path)
        finally:
            lab.stop()
        log = ca.server_log()
    renewals = log.count("RenewalReq")
    print(f"{cuts} cuts, {len(lost)} roles lost, {len(orphans)} orphans (seed {seed}; {ops}; "
          f"the CA saw {log.count('PKCSReq')} PKCSReq and {renewals} RenewalReq)")
    assert lost == [], f"roles lost (seed {seed}): {lost}"
    assert orphans == [], f"after {cuts} cuts (seed {seed}): {orphans}"
    if ops.get("auto", 0) >= 10:
        # the cuts met automatic renewals: more RenewalReq than `renew` commands could send
        assert renewals > ops.get("renew", 0), (renewals, ops)
