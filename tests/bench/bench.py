#!/usr/bin/python3
"""tests/bench/bench.py: certwiz's benchmarks (`make bench`); docs/bench.md says how to read them.

Measures, in one run and interleaved so that a busy machine slows both sides alike:

  ram   the mbedTLS arena high-water and the lwIP pool high-waters (`mem`) after one operation in a
        fresh firmware process (the arena cannot be reset, so every operation gets its own process;
        a token keeps what earlier processes stored, so later steps start from real state)
  csr   `request <set> offline` (key pair in the token + PKCS#10 signed there) against the token
        alone: `pkcs11-tool --keypairgen`, `pkcs11-tool --sign`, and `openssl req -engine pkcs11`
        with a token key, the tool a user would otherwise make a CSR with
  scep  `request <set> online` and `renew <set>` against Debian's `scepclient` on the same
        micromdm scepserver (RSA-2048 and RSA-4096 CA), in its private network namespace as root
  mcu   the Cortex-M image's flash and RAM from `make size` / `make target-check` output files

Writes OUT/bench.md, OUT/bench.json and OUT/ratios.svg. Times are wall-clock seconds of whole
commands as a user runs them (cwctl or the reference tool, process start included). Nothing here
is a test: it fails only when an operation itself fails.

Run through `make bench` (it builds first). Debian's python3 only: the SCEP fixture of the system
tests (tests/system/scep_fixture.py, python3-asn1crypto, python3-cryptography) is reused.
"""
import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "system"))

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
CHALLENGE = "bench-challenge"
MCU_ARENA_DEFAULT = 16384

# What is benchmarked per key type: topology set name, pkcs11-tool key type, pkcs11-tool signing
# mechanism (EC: CKM_ECDSA over a digest made here, as certwiz hashes with mbedTLS), and the digest.
KEY_TYPES = {
    "rsa2048": ("r2048", "rsa:2048", "SHA256-RSA-PKCS", None),
    "rsa3072": ("r3072", "rsa:3072", "SHA256-RSA-PKCS", None),
    "rsa4096": ("r4096", "rsa:4096", "SHA256-RSA-PKCS", None),
    "ecP256": ("p256", "EC:prime256v1", "ECDSA", "sha256"),
    "ecP384": ("p384", "EC:secp384r1", "ECDSA", "sha384"),
}
KEY_LABEL = {"rsa2048": "RSA-2048", "rsa3072": "RSA-3072", "rsa4096": "RSA-4096",
             "ecP256": "EC P-256", "ecP384": "EC P-384"}

SUBJECT = {"organization": "Contoso Ltd", "organizationalUnit": "Unified Communications",
           "locality": "Redmond", "state": "Washington", "country": "US"}
HOST = "edge01.contoso.com"
SANS = ["edge01.contoso.com", "redmond-pool.contoso.com", "lyncdiscoverinternal.contoso.com"]


def cpu_seconds(pid):
    """User + system CPU time of a process so far (/proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    pass


def log(msg):
    print(f"bench: {msg}", flush=True)


# ---- statistics ----------------------------------------------------------------------------

def summary(values):
    """n, median, min, max of a list of numbers (None when empty)."""
    if not values:
        return None
    return {"n": len(values), "median": statistics.median(values), "min": min(values),
            "max": max(values), "values": values}


def ratio(a, b):
    return a / b if a is not None and b else None


# ---- processes -----------------------------------------------------------------------------

def run(argv, env=None, cwd=None, ns=None, timeout=300):
    """Run argv (in ns's network namespace when given); returns (CompletedProcess, seconds)."""
    t0 = time.perf_counter()
    if ns is not None:
        r = ns.run_in_ns(argv, env=env, cwd=cwd, timeout=timeout)
    else:
        r = subprocess.run([str(a) for a in argv], env=env, cwd=cwd, capture_output=True, text=True,
                           timeout=timeout)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise BenchError(f"{' '.join(str(a) for a in argv)} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r, dt


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = Path(tempfile.mkdtemp(prefix="certwiz-bench-"))
        self.samples = {}     # key -> list of numbers
        self.mem = {}         # operation -> list of parsed `mem` outputs
        self.notes = []
        self.token_seq = 0
        os.environ.setdefault("CW_BUILD", args.build)
        import conftest   # reads CW_BUILD
        self.conftest = conftest
        self.cwctl_bin = str(conftest.CWCTL)

    def add(self, key, value):
        self.samples.setdefault(key, []).append(value)

    # -- tokens and devices --------------------------------------------------------------------
    def new_token(self):
        self.token_seq += 1
        d = self.work / f"t{self.token_seq:03d}"
        d.mkdir()
        return self.conftest.Token(d, label=f"bench{self.token_seq}")

    @contextmanager
    def device(self, token, server=None, args=()):
        extra = (*token.args(), *args)
        if server is not None:
            dev = server.start_device(*extra, env=token.env)
        else:
            dev = self.conftest.start_device(*extra, env=token.env)
        try:
            yield dev
        finally:
            rc, err = dev.stop()
            if rc != 0:
                raise BenchError(f"certwiz exited {rc}: {err}")

    def cw(self, dev, *args, token=None, challenge=False, stdin=None):
        """cwctl against dev; returns (stdout, seconds)."""
        cmd = [self.cwctl_bin, "--port", dev.port, "--timeout", "120"]
        if token is not None:
            cmd += ["--pin-file", str(token.pin_file)]
        if challenge:
            cmd += ["--challenge-file", str(self.challenge_file)]
        cmd += [str(a) for a in args]
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                           stdin=subprocess.DEVNULL if stdin is None else stdin)
        dt = time.perf_counter() - t0
        if r.returncode != 0:
            raise BenchError(f"cwctl {' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout}{r.stderr}")
        return r.stdout, dt

    def login(self, dev, token):
        self.cw(dev, "login", token=token)

    def read_mem(self, dev, op):
        out, _ = self.cw(dev, "mem")
        m = re.search(r"arena: size (\d+), in use (\d+) in (\d+) blocks, high-water (\d+) in (\d+) blocks", out)
        if not m:
            raise BenchError(f"mem: no arena line in {out!r}")
        mem = {"arena_size": int(m.group(1)), "arena_in_use": int(m.group(2)),
               "arena_high": int(m.group(4)), "arena_high_blocks": int(m.group(5)), "lwip": {}}
        t = re.search(r"^token calls: (\d+) since boot$", out, re.M)
        mem["token_calls"] = int(t.group(1)) if t else None
        for line in out.splitlines():
            p = re.match(r"^\s+(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", line)
            if p:
                mem["lwip"][p.group(1)] = {"size": int(p.group(2)), "high": int(p.group(4)),
                                           "errors": int(p.group(5))}
        self.mem.setdefault(op, []).append(mem)
        return mem

    # -- fixtures: offline CA, topology ---------------------------------------------------------
    def make_offline_ca(self):
        ca = self.work / "offline-ca"
        ca.mkdir()
        run(["openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca / "ca.key",
             "-subj", "/O=certwiz bench/CN=Bench Offline CA", "-days", "3650", "-sha256",
             "-addext", "basicConstraints=critical,CA:true",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", ca / "ca.pem"])
        self.offline_ca = ca
        r = subprocess.run(["openssl", "x509", "-in", str(ca / "ca.pem"), "-outform", "DER"],
                           capture_output=True, check=True)
        self.offline_fp = hashlib.sha256(r.stdout).hexdigest()

    def sign_offline(self, csr, out, serial):
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.offline_ca / "ca.pem",
             "-CAkey", self.offline_ca / "ca.key", "-set_serial", str(serial), "-days", "365",
             "-sha256", "-copy_extensions", "copy", "-out", out])

    def make_topology(self, servers):
        profiles = [{"name": "offline", "protocol": "offline", "caFingerprint": self.offline_fp}]
        sets = []
        for kt, (name, *_r) in KEY_TYPES.items():
            sets.append({"name": name, "roles": [f"Role-{name}"], "caProfile": "offline",
                         "eku": ["serverAuth", "clientAuth"], "keyType": kt, "cn": "{host}",
                         "san": [{"dns": "{host}"}, {"dns": "{site}-pool.contoso.com"},
                                 {"dns": "lyncdiscoverinternal.{domain}"}]})
        for bits, srv in servers.items():
            profiles.append({"name": f"scep{bits}", "protocol": "scep", "url": srv.device_url,
                             "caFingerprint": srv.ca_sha256, "keyType": "rsa2048"})
            sets.append({"name": f"online{bits}", "roles": [f"Role-online{bits}"],
                         "caProfile": f"scep{bits}", "eku": ["clientAuth"], "cn": "{host}",
                         "san": [{"dns": "{host}"}]})
        doc = {"version": 1, "appliance": {"host": HOST, "site": "redmond"}, "subject": SUBJECT,
               "domains": ["contoso.com"], "caProfiles": profiles, "sets": sets}
        src = self.work / "bench-topology.json"
        src.write_text(json.dumps(doc, indent=2))
        self.topology = self.work / "bench-topology.der"
        run([self.cwctl_bin, "topology", "compile", src, "-o", self.topology])
        # the TPM makes RSA keys up to 3072 bits: its topology has no RSA-4096 set
        doc["sets"] = [x for x in sets if x.get("keyType") != "rsa4096"]
        src = self.work / "bench-topology-tpm.json"
        src.write_text(json.dumps(doc, indent=2))
        self.topology_tpm = self.work / "bench-topology-tpm.der"
        run([self.cwctl_bin, "topology", "compile", src, "-o", self.topology_tpm])

    def openssl_conf(self):
        """An OpenSSL config that names SoftHSM2 as the pkcs11 engine's module (not p11-kit's list)."""
        conf = self.work / "openssl-engine.cnf"
        conf.write_text("openssl_conf = init\n[init]\nengines = engines\n[engines]\npkcs11 = pkcs11\n"
                        f"[pkcs11]\nengine_id = pkcs11\nMODULE_PATH = {SOFTHSM_MODULE}\ninit = 0\n"
                        "[req]\ndistinguished_name = dn\n[dn]\n")
        return conf

    # -- 1 + 3: topology load, CSR per key type, against the token alone -------------------------
    def bench_topology_and_csr(self, kt, n):
        name, p11_type, mech, digest = KEY_TYPES[kt]
        label = KEY_LABEL[kt]
        # The reference token: one key made by pkcs11-tool, signed with again and again.
        ref = self.new_token()
        env = {**ref.env, "OPENSSL_CONF": str(self.openssl_conf())}
        p11 = ["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", ref.label, "--login",
               "--pin", ref.pin]
        run(p11 + ["--keypairgen", "--key-type", p11_type, "--label", "ref", "--id", "0101"], env=env)
        data = self.work / f"tbs-{kt}.bin"
        data.write_bytes(os.urandom(600))  # about a CSR's CertificationRequestInfo
        to_sign = data
        if digest:
            to_sign = self.work / f"tbs-{kt}.{digest}"
            to_sign.write_bytes(hashlib.new(digest, data.read_bytes()).digest())
        subj = "/C=US/ST=Washington/L=Redmond/O=Contoso Ltd/OU=Unified Communications/CN=" + HOST
        key_uri = f"pkcs11:token={ref.label};object=ref;type=private?pin-value={ref.pin}"
        for i in range(n):
            # certwiz: a fresh token and process for the topology load, another for the request
            tok = self.new_token()
            with self.device(tok) as dev:
                self.login(dev, tok)
                _, dt = self.cw(dev, "version")
                self.add("cw_baseline", dt)
                _, dt = self.cw(dev, "topology", "load", self.topology, token=tok)
                if kt == "rsa2048":
                    self.add("topology_load", dt)
                self.read_mem(dev, "topology load")
            with self.device(tok) as dev:
                self.login(dev, tok)
                csr = self.work / f"{tok.label}.csr"
                out, dt = self.cw(dev, "request", "--set", name, "--offline", "-o", csr)
                m = re.search(r"key pair generated in (\d+) ms", out)
                if not m:
                    raise BenchError(f"no key generation time in {out!r}")
                keygen = int(m.group(1)) / 1000
                self.add(f"cw_request_{kt}", dt)
                self.add(f"cw_keygen_{kt}", keygen)
                self.add(f"cw_csr_only_{kt}", dt - keygen)
                self.read_mem(dev, f"keygen + CSR {label} (request offline)")
            if kt == "rsa2048" and i < self.args.n_import:
                self.bench_import(tok, name, csr, i)
            # the token alone, by the tools a user would otherwise use
            rt = self.new_token()
            _, dt = run(["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", rt.label, "--login",
                         "--pin", rt.pin, "--keypairgen", "--key-type", p11_type, "--label", "k",
                         "--id", "0202"], env=rt.env)
            self.add(f"p11_keygen_{kt}", dt)
            _, dt = run(p11 + ["--sign", "-m", mech, "--id", "0101", "-i", to_sign,
                               "-o", self.work / "sig.bin"], env=env)
            self.add(f"p11_sign_{kt}", dt)
            _, dt = run(["openssl", "req", "-new", "-engine", "pkcs11", "-keyform", "engine",
                         "-key", key_uri, "-subj", subj, "-sha256" if not digest else f"-{digest}",
                         "-addext", "subjectAltName=" + ",".join(f"DNS:{s}" for s in SANS),
                         "-addext", "keyUsage=critical,digitalSignature,keyEncipherment" if mech != "ECDSA"
                         else "keyUsage=critical,digitalSignature",
                         "-addext", "extendedKeyUsage=serverAuth,clientAuth",
                         "-out", self.work / "ref.csr"], env=env)
            self.add(f"ossl_req_{kt}", dt)
            # the reference's plain cost: start, load the module, log in, list nothing
            _, dt = run(p11 + ["--list-objects", "--type", "secrkey"], env=env)
            self.add("p11_baseline", dt)
        shutil.rmtree(ref.dir.parent, ignore_errors=True)

    def bench_import(self, tok, name, csr, i):
        """Offline import of an RSA-2048 answer, in its own process on the token that requested it."""
        cert = self.work / f"{tok.label}.pem"
        self.sign_offline(csr, cert, 1000 + i)
        bundle = self.work / f"{tok.label}-bundle.pem"
        bundle.write_text(cert.read_text() + (self.offline_ca / "ca.pem").read_text())
        with self.device(tok) as dev:
            self.login(dev, tok)
            _, dt = self.cw(dev, "import", "--set", name, bundle)
            self.add("cw_import_rsa2048", dt)
            self.read_mem(dev, "offline import RSA-2048 (answer + CA)")

    # -- 1 + 4: SCEP enrolment and renewal, against scepclient --------------------------------------
    def bench_scep(self, bits, srv, n):
        set_name = f"online{bits}"
        for i in range(n):
            tok = self.new_token()
            with self.device(tok, srv) as dev:
                self.login(dev, tok)
                self.cw(dev, "topology", "load", self.topology, token=tok)
                _, dt = self.cw(dev, "ca", "auth", "--profile", f"scep{bits}")
                self.add(f"cw_ca_auth_{bits}", dt)
                self.read_mem(dev, f"ca auth (GetCACert), RSA-{bits} CA")
            with self.device(tok, srv) as dev:
                self.login(dev, tok)
                out, dt = self.cw(dev, "request", "--set", set_name, "--online", challenge=True)
                self.add(f"cw_enrol_{bits}", dt)
                m = re.search(r"done in (\d+) ms", out)
                if m:
                    self.add(f"cw_enrol_device_{bits}", int(m.group(1)) / 1000)
                m = re.search(r"key pair generated in (\d+) ms", out)
                if m:
                    self.add(f"cw_enrol_keygen_{bits}", int(m.group(1)) / 1000)
                self.read_mem(dev, f"SCEP enrolment RSA-2048 key, RSA-{bits} CA")
            with self.device(tok, srv) as dev:
                self.login(dev, tok)
                _, dt = self.cw(dev, "renew", "--set", set_name, challenge=True)
                self.add(f"cw_renew_{bits}", dt)
                self.read_mem(dev, f"SCEP renewal RSA-2048 key, RSA-{bits} CA")
            # scepclient: its own directory per run; the same server, the same namespace
            d = self.work / f"scepclient-{bits}-{i}"
            d.mkdir()
            common = ["scepclient", "-server-url", srv.url, "-challenge", CHALLENGE,
                      "-private-key", d / "key.pem", "-keySize", "2048", "-cn", HOST,
                      "-organization", SUBJECT["organization"], "-ou", SUBJECT["organizationalUnit"],
                      "-country", SUBJECT["country"]]
            _, dt = run(common, cwd=d, ns=srv)
            if not (d / "client.pem").exists():
                raise BenchError(f"scepclient wrote no client.pem in {d}")
            self.add(f"sc_enrol_{bits}", dt)
            _, dt = run(common + ["-certificate", d / "client.pem"], cwd=d, ns=srv)
            self.add(f"sc_renew_{bits}", dt)

    # -- issue 17: the same operations on a TPM 2.0 token beside SoftHSM2 -----------------------------
    def bench_tpm(self, srv, n):
        """Key generation and one CSR (`request --offline`) on a tpm2-pkcs11 token (swtpm behind
        tpm2-abrmd --max-transients=3), against pkcs11-tool's key generation on the same kind of
        token, and one SCEP enrolment there: times, arena high-water and token calls (`mem`)."""
        lab = self.conftest.TpmLab(self.work / "tpm-lab")
        try:
            for kt in ("rsa2048", "ecP256"):
                name, p11_type, _, _ = KEY_TYPES[kt]
                label = KEY_LABEL[kt]
                for _ in range(n):
                    tok = lab.new_token(self.work / f"tpm-{kt}-{lab.made + 1}")
                    with self.device(tok) as dev:
                        self.login(dev, tok)
                        self.cw(dev, "topology", "load", self.topology_tpm, token=tok)
                    with self.device(tok) as dev:
                        self.login(dev, tok)
                        csr = self.work / f"{tok.label}.csr"
                        out, dt = self.cw(dev, "request", "--set", name, "--offline", "-o", csr)
                        m = re.search(r"key pair generated in (\d+) ms", out)
                        if not m:
                            raise BenchError(f"no key generation time in {out!r}")
                        self.add(f"tpm_request_{kt}", dt)
                        self.add(f"tpm_keygen_{kt}", int(m.group(1)) / 1000)
                        self.read_mem(dev, f"keygen + CSR {label} (request offline), TPM")
                    _, dt = run(["pkcs11-tool", "--module", tok.module, "--token-label", tok.label, "--login",
                                 "--pin", tok.pin, "--keypairgen", "--key-type", p11_type, "--label", "k",
                                 "--id", "0202"], env=tok.env)
                    self.add(f"p11tpm_keygen_{kt}", dt)
                    lab.remove_token(tok)
            for _ in range(n):
                tok = lab.new_token(self.work / f"tpm-scep-{lab.made + 1}")
                with self.device(tok, srv) as dev:
                    self.login(dev, tok)
                    self.cw(dev, "topology", "load", self.topology_tpm, token=tok)
                    self.cw(dev, "ca", "auth", "--profile", "scep2048")
                with self.device(tok, srv) as dev:
                    self.login(dev, tok)
                    _, dt = self.cw(dev, "request", "--set", "online2048", "--online", challenge=True)
                    self.add("tpm_enrol_2048", dt)
                    self.read_mem(dev, "SCEP enrolment RSA-2048 key, RSA-2048 CA, TPM")
                lab.remove_token(tok)
        finally:
            lab.stop()

    # -- 9 (issue 18): a background renewal; the idle cost of scheduling many sets ---------------
    def bench_lifecycle(self, srv, n):
        """A renewal the device starts on its own: the clock (--clock-offset @FILE, the host
        board's test option) jumps past the renewal time of a one-day certificate; measured from
        the jump to the new certificate in the role (including up to 1 s before the device reads
        its clock again), and the arena's high-water of that process (login + the renewal)."""
        doc = {"version": 1, "appliance": {"host": HOST, "site": "redmond"}, "subject": SUBJECT,
               "domains": ["contoso.com"],
               "caProfiles": [{"name": "life", "protocol": "scep", "url": srv.device_url,
                               "caFingerprint": srv.ca_sha256, "keyType": "rsa2048"}],
               "sets": [{"name": "life", "roles": ["Role-life"], "caProfile": "life", "eku": ["clientAuth"],
                         "cn": "{host}", "san": [{"dns": "{host}"}]}]}
        src = self.work / "life-topology.json"
        src.write_text(json.dumps(doc))
        topo = self.work / "life-topology.der"
        run([self.cwctl_bin, "topology", "compile", src, "-o", topo])
        for i in range(n):
            tok = self.new_token()
            offset = self.work / f"{tok.label}.offset"
            offset.write_text("0\n")
            args = ("--clock-offset", f"@{offset}")
            with self.device(tok, srv, args) as dev:
                self.login(dev, tok)
                self.cw(dev, "topology", "load", topo, token=tok)
                self.cw(dev, "ca", "auth", "--profile", "life")
                self.cw(dev, "request", "--set", "life", "--online", challenge=True)
            with self.device(tok, srv, args) as dev:
                self.login(dev, tok)
                out, _ = self.cw(dev, "roles")
                first = re.search(r"notAfter: (\S+)", out).group(1)
                t0 = time.perf_counter()
                offset.write_text(f"{int(20.5 * 3600)}\n")
                while True:
                    r = subprocess.run([self.cwctl_bin, "--port", dev.port, "--timeout", "20", "roles"],
                                       capture_output=True, text=True, timeout=60)
                    m = re.search(r"notAfter: (\S+)", r.stdout) if r.returncode == 0 else None
                    if m and m.group(1) != first:
                        break
                    if time.perf_counter() - t0 > 60:
                        raise BenchError("no background renewal within 60 s")
                    time.sleep(0.05)
                self.add("cw_bg_renew_2048", time.perf_counter() - t0)
                offset.write_text("0\n")
                self.read_mem(dev, "background renewal (SCEP, RSA-2048 key, RSA-2048 CA)")

    def bench_idle(self, seconds=10.0):
        """CPU time of an idle device over `seconds`: with CW_TOPO_SETS_MAX (8) sets that all have a
        certificate and a renewal time (the schedule judged every second), and with no topology."""
        names = [f"s{k}" for k in range(8)]
        doc = {"version": 1, "appliance": {"host": HOST, "site": "redmond"}, "subject": SUBJECT,
               "domains": ["contoso.com"],
               "caProfiles": [{"name": "offline", "protocol": "offline", "caFingerprint": self.offline_fp}],
               "sets": [{"name": n, "roles": [f"Role-{n}"], "caProfile": "offline", "keyType": "ecP256",
                         "eku": ["serverAuth"], "cn": "{host}", "san": [{"dns": "{host}"}]} for n in names]}
        src = self.work / "idle-topology.json"
        src.write_text(json.dumps(doc))
        topo = self.work / "idle-topology.der"
        run([self.cwctl_bin, "topology", "compile", src, "-o", topo])
        tok = self.new_token()
        with self.device(tok) as dev:
            self.login(dev, tok)
            self.cw(dev, "topology", "load", topo, token=tok)
            for k, n in enumerate(names):
                csr = self.work / f"idle-{n}.csr"
                self.cw(dev, "request", "--set", n, "--offline", "-o", csr)
                cert = self.work / f"idle-{n}.pem"
                self.sign_offline(csr, cert, 5000 + k)
                bundle = self.work / f"idle-{n}-bundle.pem"
                bundle.write_text(cert.read_text() + (self.offline_ca / "ca.pem").read_text())
                self.cw(dev, "import", "--set", n, bundle)
        for key, token in (("idle_cpu_8sets", tok), ("idle_cpu_none", self.new_token())):
            for _ in range(3):
                with self.device(token) as dev:
                    self.login(dev, token)
                    out, _ = self.cw(dev, "status")
                    if key == "idle_cpu_8sets" and out.count("; next: renewal at") != 8:
                        raise BenchError(f"not every set is scheduled:\n{out}")
                    time.sleep(1.0)  # the sets' facts are read after the login
                    c0 = cpu_seconds(dev.proc.pid)
                    time.sleep(seconds)
                    self.add(key, cpu_seconds(dev.proc.pid) - c0)

    # -- static RAM of the host firmware, the Cortex-M figures -----------------------------------
    def host_static(self):
        r, _ = run(["size", "-A", self.conftest.CERTWIZ])
        secs = {}
        for line in r.stdout.splitlines():
            p = line.split()
            if len(p) >= 2 and p[0].startswith(".") and p[1].isdigit():
                secs[p[0]] = int(p[1])
        return {"data": secs.get(".data", 0), "bss": secs.get(".bss", 0)}

    def mcu(self):
        res = {}
        size_txt = Path(self.args.size).read_text() if self.args.size and Path(self.args.size).exists() else ""
        tc_txt = Path(self.args.target_check).read_text() \
            if self.args.target_check and Path(self.args.target_check).exists() else ""
        comps = {}
        for line in size_txt.splitlines():
            p = re.match(r"^(certwiz|mbedTLS|lwIP|board|tests|libc|padding|unattributed|total)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$", line)
            if p:
                comps[p.group(1)] = {"text": int(p.group(2)), "data": int(p.group(3)), "bss": int(p.group(4)),
                                     "flash": int(p.group(5)), "static_ram": int(p.group(6))}
        res["components"] = comps
        m = re.search(r"main stack \(reserved, \.stack\): (\d+) bytes", size_txt)
        res["stack_reserved"] = int(m.group(1)) if m else None
        m = re.search(r"stack high-water: (\d+) of (\d+) bytes", tc_txt)
        res["stack_high"] = int(m.group(1)) if m else None
        m = re.search(r"arena high-water: (\d+) of (\d+) bytes", tc_txt)
        res["arena_high_target_check"] = int(m.group(1)) if m else None
        res["arena_size"] = int(m.group(2)) if m else MCU_ARENA_DEFAULT
        m = re.search(r"^(\d+) checks, (\d+) failed", tc_txt, re.MULTILINE)
        res["target_checks"] = f"{m.group(1)} checks, {m.group(2)} failed" if m else None
        # the token on UART1 (test_mps2.py's whole life on the target): bytes and requests per
        # operation, and the arena and stack high-water marks of that run (an online enrolment)
        uart1 = Path(self.args.uart1) if self.args.uart1 else None
        res["uart1"] = json.loads(uart1.read_text()) if uart1 is not None and uart1.exists() else None
        return res

    def close(self):
        if self.args.keep:
            log(f"work files kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)


# ---- report -----------------------------------------------------------------------------------

def ms(x):
    return "—" if x is None else (f"{x * 1000:.0f} ms" if x >= 0.0995 else f"{x * 1000:.1f} ms")


def kib(b):
    return f"{b} B ({b / 1024:.1f} KiB)"


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}×"


def build_report(b, mcu, host_static, seconds, started):
    S = {k: summary(v) for k, v in b.samples.items()}

    def med(k):
        return S[k]["median"] if S.get(k) else None

    rows_time = []   # operation, summary, ratio text, notes

    def trow(op, key, ratios=(), notes=""):
        s = S.get(key)
        if s is None:
            return
        rtxt = "; ".join(f"{fmt_ratio(ratio(s['median'], ref))} {name}" for name, ref in ratios
                         if ratio(s["median"], ref) is not None) or "—"
        rows_time.append({"operation": op, "key": key, "n": s["n"], "median_s": s["median"],
                          "min_s": s["min"], "max_s": s["max"], "ratio": rtxt, "notes": notes,
                          "ratios": {name: ratio(s["median"], ref) for name, ref in ratios}})

    for kt, label in KEY_LABEL.items():
        if f"cw_request_{kt}" not in S:
            continue
        both = (med(f"p11_keygen_{kt}") or 0) + (med(f"ossl_req_{kt}") or 0)
        trow(f"CSR {label}: certwiz `request --offline` (keygen + CSR)", f"cw_request_{kt}",
             [("pkcs11-tool keygen + openssl req", both), ("pkcs11-tool keygen", med(f"p11_keygen_{kt}"))],
             "cwctl wall time; a fresh token per run; includes storing the pending record in the token")
        trow(f"CSR {label}: certwiz key generation (as the device prints it)", f"cw_keygen_{kt}",
             [("pkcs11-tool --keypairgen", med(f"p11_keygen_{kt}"))],
             "C_GenerateKeyPair inside the firmware, no process start")
        trow(f"CSR {label}: certwiz CSR without keygen (wall − keygen)", f"cw_csr_only_{kt}",
             [("openssl req -engine pkcs11", med(f"ossl_req_{kt}")), ("pkcs11-tool --sign", med(f"p11_sign_{kt}"))],
             "encode + sign in the token + pending record + console transfer + cwctl start")
        trow(f"CSR {label}: token alone, `pkcs11-tool --keypairgen`", f"p11_keygen_{kt}", [],
             "process start + module load + login + C_GenerateKeyPair")
        trow(f"CSR {label}: token alone, `pkcs11-tool --sign`", f"p11_sign_{kt}", [],
             "existing key; " + ("SHA256-RSA-PKCS over 600 bytes" if kt.startswith("rsa")
                                 else "CKM_ECDSA over a digest (SoftHSM2 hashes nothing for EC)"))
        trow(f"CSR {label}: `openssl req -new -engine pkcs11` (token key)", f"ossl_req_{kt}", [],
             "existing key; same subject, SANs, keyUsage and EKU as certwiz's")
    trow("token alone: pkcs11-tool start + login, no operation", "p11_baseline", [],
         "what every pkcs11-tool figure above carries besides the token operation")
    trow("certwiz alone: cwctl start + `version` round trip, no operation", "cw_baseline", [],
         "what every certwiz figure carries besides the work: cwctl waits 100 ms for a quiet line "
         "before each command, and 200 ms of quiet to recognise a prompt (PIN, challenge, paste)")
    trow("topology load (fresh token)", "topology_load", [], "no reference tool: no other tool loads it")
    trow("offline import RSA-2048 (certificate + CA, chain and name checks, roles assigned)",
         "cw_import_rsa2048", [], "no reference tool checks what certwiz checks")
    for bits in (2048, 4096):
        trow(f"SCEP enrolment, RSA-{bits} CA: certwiz `request --online`", f"cw_enrol_{bits}",
             [("scepclient", med(f"sc_enrol_{bits}"))],
             "RSA-2048 key made in SoftHSM2; GetCACaps + GetCACert + PKCSReq; cwctl wall time")
        trow(f"SCEP enrolment, RSA-{bits} CA: `scepclient`", f"sc_enrol_{bits}", [],
             "RSA-2048 key made in software (Go), written to a file; same server, same namespace")
        trow(f"SCEP enrolment, RSA-{bits} CA: certwiz as the device prints it (`done in`)",
             f"cw_enrol_device_{bits}", [("scepclient", med(f"sc_enrol_{bits}"))], "no cwctl or console time")
        trow(f"SCEP renewal, RSA-{bits} CA: certwiz `renew`", f"cw_renew_{bits}",
             [("scepclient renewal (same key)", med(f"sc_renew_{bits}")),
              ("scepclient enrolment (new key)", med(f"sc_enrol_{bits}"))],
             "key rollover: a new RSA-2048 key in the token, RenewalReq signed by the old one")
        trow(f"SCEP renewal, RSA-{bits} CA: `scepclient -certificate`", f"sc_renew_{bits}", [],
             "RenewalReq with the SAME key (scepclient makes no new key), so less work than certwiz")
        trow(f"SCEP `ca auth`, RSA-{bits} CA (GetCACert, pin checked, stored)", f"cw_ca_auth_{bits}", [], "")

    for kt, label in (("rsa2048", "RSA-2048"), ("ecP256", "EC P-256")):
        trow(f"TPM: CSR {label}, certwiz `request --offline` (keygen + CSR)", f"tpm_request_{kt}",
             [("the same on SoftHSM2", med(f"cw_request_{kt}")), ("pkcs11-tool keygen on the TPM", med(f"p11tpm_keygen_{kt}"))],
             "tpm2-pkcs11 on swtpm (the TPM computes on this PC's CPU; a TPM chip is much slower)")
        trow(f"TPM: key generation {label} (as the device prints it)", f"tpm_keygen_{kt}",
             [("SoftHSM2", med(f"cw_keygen_{kt}")), ("pkcs11-tool --keypairgen on the TPM", med(f"p11tpm_keygen_{kt}"))],
             "C_GenerateKeyPair inside the firmware")
        trow(f"TPM: `pkcs11-tool --keypairgen` {label}", f"p11tpm_keygen_{kt}", [],
             "process start + module load + login + C_GenerateKeyPair")
    trow("TPM: SCEP enrolment, RSA-2048 CA: certwiz `request --online`", "tpm_enrol_2048",
         [("the same on SoftHSM2", med("cw_enrol_2048")), ("scepclient", med("sc_enrol_2048"))],
         "RSA-2048 key made in the TPM, which also decrypts the CertRep")

    trow("SCEP renewal on its own (the clock passes the renewal time): jump to new certificate",
         "cw_bg_renew_2048", [("certwiz `renew` (RSA-2048 CA)", med("cw_renew_2048"))],
         "RSA-2048 key rollover in the background; includes up to 1 s until the device reads its clock "
         "again, and no cwctl command or challenge")
    trow("idle: CPU time over 10 s, 8 sets with certificates and renewal times", "idle_cpu_8sets",
         [("the same device with no topology", med("idle_cpu_none"))],
         "the schedule is judged once a second from what is in RAM (the token is read only after a change)")
    trow("idle: CPU time over 10 s, no topology", "idle_cpu_none", [], "the main loop's own cost")

    # RAM per operation
    rows_ram = []
    mcu_arena = mcu.get("arena_size") or MCU_ARENA_DEFAULT
    for op, mems in b.mem.items():
        highs = [m["arena_high"] for m in mems]
        s = summary(highs)
        lw = {}
        for m in mems:
            for pool, v in m["lwip"].items():
                e = lw.setdefault(pool, {"size": v["size"], "high": 0, "errors": 0})
                e["high"] = max(e["high"], v["high"])
                e["errors"] = max(e["errors"], v["errors"])
        rows_ram.append({"operation": op, "n": s["n"], "median": s["median"], "min": s["min"], "max": s["max"],
                         "blocks": max(m["arena_high_blocks"] for m in mems),
                         "arena_size_host": mems[0]["arena_size"],
                         "ratio_mcu_arena": s["max"] / mcu_arena, "leaked": max(m["arena_in_use"] for m in mems),
                         "token_calls": max((m.get("token_calls") or 0 for m in mems), default=None),
                         "lwip": lw})

    # Cortex-M
    comps = mcu.get("components", {})
    total = comps.get("total")
    # The arena's worst: the highest of the host runs (a whole enrolment) and of the on-target
    # checks (the RSA-4096 CertRep check and import check, measured on the board itself).
    worst_host_arena = max((r["max"] for r in rows_ram), default=0)
    worst_arena = max(worst_host_arena, mcu.get("arena_high_target_check") or 0)
    mcu_rows = []
    if total:
        # 144 KiB: issue 19's target for the board with SCEP, offline, lifecycle, SNTP and the
        # token client (decisions.md 34 and 38 say how the image got here).
        flash_target, ram_limit, ram_aim = 144 * 1024, 48 * 1024, 32 * 1024
        mcu_rows.append(("flash (text + data)", total["flash"], flash_target, "144 KiB target"))
        static_stack = total["static_ram"] + (mcu.get("stack_reserved") or 0)
        mcu_rows.append(("RAM as linked: static RAM + reserved stack", static_stack, ram_limit, "48 KiB limit"))
        mcu_rows.append(("RAM as linked: static RAM + reserved stack", static_stack, ram_aim, "32 KiB aim"))
        if mcu.get("stack_high") is not None:
            need = total["static_ram"] - mcu_arena + worst_arena + mcu["stack_high"]
            mcu_rows.append(("RAM needed: static RAM − arena + worst arena high-water (host runs, on-target "
                             "checks) + stack high-water (on-target checks)",
                             need, ram_limit, "48 KiB limit"))
            mcu_rows.append(("RAM needed (as above)", need, ram_aim, "32 KiB aim"))
        u = mcu.get("uart1") or {}
        if "arena high-water" in u and "stack high-water" in u:
            need = total["static_ram"] - mcu_arena + u["arena high-water"] + u["stack high-water"]
            what = ("RAM needed on the target with its token on UART1: static RAM − arena + arena high-water "
                    "+ stack high-water, measured through an online SCEP enrolment and two offline requests")
            mcu_rows.append((what, need, ram_limit, "48 KiB target"))
            mcu_rows.append(("RAM needed on the target (as above)", need, ram_aim, "32 KiB aim"))

    data = {
        "started": started, "seconds": seconds, "machine": platform.node(), "cpus": os.cpu_count(),
        "as_root": os.geteuid() == 0, "samples": b.samples, "time_rows": rows_time, "ram_rows": rows_ram,
        "host_static": host_static, "mcu": mcu, "mcu_rows": [
            {"what": w, "bytes": v, "target": t, "ratio": v / t, "note": n} for w, v, t, n in mcu_rows],
        "notes": b.notes,
    }

    md = []
    md.append("# certwiz benchmarks (`make bench`)\n")
    md.append(f"Run {started} on {os.cpu_count()} CPUs, {seconds:.0f} s in all"
              f"{'' if os.geteuid() == 0 else ' (not root: scepserver ran on the host network)'}. "
              "Times are wall clock of whole commands, process start included, medians of n runs "
              "interleaved with their references; spread is min–max. Read the ratios: an absolute time on "
              "a shared machine means little. docs/bench.md explains every row.\n")
    md.append("## Time\n")
    md.append("| operation | n | median | spread | ratio | notes |")
    md.append("| --- | ---: | ---: | ---: | --- | --- |")
    for r in rows_time:
        md.append(f"| {r['operation']} | {r['n']} | {ms(r['median_s'])} | {ms(r['min_s'])} – {ms(r['max_s'])} "
                  f"| {r['ratio']} | {r['notes']} |")
    md.append("\n## Peak RAM per operation (host firmware, mbedTLS arena)\n")
    md.append("Each operation in a fresh firmware process, `mem` read after it (login included; the "
              "token keeps what earlier processes stored). Ratio: the worst run against the Cortex-M "
              f"board's arena of {mcu_arena} bytes; over 1.00 would not fit there.\n")
    md.append("| operation | n | median | spread | ratio | notes |")
    md.append("| --- | ---: | ---: | ---: | --- | --- |")
    for r in rows_ram:
        note = f"{r['blocks']} blocks at most; host arena {r['arena_size_host']} B"
        if r.get("token_calls") is not None:
            note += f"; {r['token_calls']} token calls in the process (login included)"
        if r["leaked"]:
            note += f"; {r['leaked']} B still in use after the command"
        md.append(f"| {r['operation']} | {r['n']} | {r['median']:.0f} B | {r['min']} – {r['max']} B "
                  f"| {fmt_ratio(r['ratio_mcu_arena'])} of MCU arena | {note} |")
    md.append(f"\nHost firmware static RAM (`size -A {b.conftest.CERTWIZ.relative_to(ROOT)}`): "
              f".data {host_static['data']} B + .bss {host_static['bss']} B = "
              f"{kib(host_static['data'] + host_static['bss'])} (board/host code and buffers included).\n")
    md.append("## lwIP pools: high-water over all runs of each network operation\n")
    net_ops = [r for r in rows_ram if any(v["high"] and p not in ("UDP_PCB", "SYS_TIMEOUT", "HEAP (bytes)",
                                                                  "PBUF_POOL")
                                          for p, v in r["lwip"].items())] or rows_ram
    pools = list(rows_ram[0]["lwip"].keys()) if rows_ram else []
    md.append("| operation | " + " | ".join(pools) + " |")
    md.append("| --- | " + " | ".join("---:" for _ in pools) + " |")
    for r in net_ops:
        cells = []
        for p in pools:
            v = r["lwip"].get(p)
            cells.append("—" if v is None else f"{v['high']}/{v['size']}" + (f" ({v['errors']} err)" if v["errors"] else ""))
        md.append(f"| {r['operation']} | " + " | ".join(cells) + " |")
    md.append("\nhigh-water/size (HEAP in bytes, pools in entries); a boot alone (DHCP) already reaches "
              "HEAP, UDP_PCB, SYS_TIMEOUT and PBUF_POOL figures, so only operations that used TCP are listed.\n")
    md.append("## Cortex-M (mps2-an386): flash and RAM against the targets\n")
    if mcu_rows:
        md.append("| what | bytes | target | ratio |")
        md.append("| --- | ---: | ---: | ---: |")
        for w, v, t, n in mcu_rows:
            md.append(f"| {w} | {v} | {n} ({t}) | {fmt_ratio(v / t)} |")
        md.append("")
        md.append("| component | flash | static RAM |")
        md.append("| --- | ---: | ---: |")
        for c, v in comps.items():
            md.append(f"| {c} | {v['flash']} | {v['static_ram']} |")
        md.append(f"\nStack high-water after `make target-check`: {mcu.get('stack_high')} of "
                  f"{mcu.get('stack_reserved')} bytes; arena high-water there: "
                  f"{mcu.get('arena_high_target_check')} of {mcu_arena} bytes (its heaviest step: the "
                  f"import check against an RSA-4096 CA; the worst host operation: {worst_host_arena} bytes); "
                  f"on-target checks: {mcu.get('target_checks')}.\n")
    else:
        md.append("No `make size` output was given (run through `make bench`).\n")
    u = mcu.get("uart1")
    md.append("## Cortex-M: the token on UART1 (p11-kit RPC to SoftHSM2 on the PC)\n")
    if u:
        md.append("| operation | token calls | bytes board → PC | bytes PC → board | line time at 115 200 baud |")
        md.append("| --- | ---: | ---: | ---: | ---: |")
        for op, v in u.items():
            if isinstance(v, dict):
                md.append(f"| {op} | {v['calls']} | {v['bytes_out']} | {v['bytes_in']} | "
                          f"{v['line_seconds_115200']:.2f} s |")
        md.append(f"\nCounted on the PC side of the line (a relay in tests/system/test_mps2.py between QEMU's "
                  f"UART1 and `p11-kit server`); line time = bytes × 10 bits / 115 200 (QEMU does not model the "
                  f"baud rate: the runs themselves are faster). Arena high-water in that run: "
                  f"{u.get('arena high-water')} bytes, stack high-water: {u.get('stack high-water')} bytes.\n")
    else:
        md.append("No UART1 figures (run through `make bench`, which runs test_mps2.py's whole-life test).\n")
    if b.notes:
        md.append("## Notes\n")
        md.extend(f"- {n}" for n in b.notes)
        md.append("")
    return data, "\n".join(md) + "\n"


def svg_ratios(rows):
    """A bar chart of the time ratios (certwiz / reference), with a line at 1."""
    bars = []
    for r in rows:
        for name, v in r["ratios"].items():
            if v is not None:
                bars.append((f"{r['operation']} / {name}", v))
    if not bars:
        return None
    h, left, width = 22, 560, 360
    top = max(2.0, max(v for _, v in bars) * 1.1)
    scale = width / top
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 70}" height="{len(bars) * h + 50}" '
           'font-family="sans-serif" font-size="11">',
           f'<text x="10" y="16" font-size="13">certwiz time / reference time (median; under 1: certwiz faster)</text>']
    for i, (label, v) in enumerate(bars):
        y = 30 + i * h
        label = label.replace("&", "&amp;").replace("<", "&lt;").replace("`", "")
        out.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{label[:95]}</text>')
        out.append(f'<rect x="{left}" y="{y + 3}" width="{v * scale:.1f}" height="{h - 6}" '
                   f'fill="{"#4a7" if v <= 1 else "#c64"}"/>')
        out.append(f'<text x="{left + v * scale + 4:.1f}" y="{y + 14}">{v:.2f}</text>')
    x1 = left + scale
    out.append(f'<line x1="{x1:.1f}" y1="26" x2="{x1:.1f}" y2="{len(bars) * h + 34}" stroke="#000" '
               'stroke-dasharray="4 3"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="build/bench")
    ap.add_argument("--build", default="build/host", help="the host build directory (certwiz, cwctl)")
    ap.add_argument("--size", help="saved output of `make size BOARD=mps2-an386`")
    ap.add_argument("--target-check", help="saved output of `make target-check BOARD=mps2-an386`")
    ap.add_argument("--uart1", help="test_mps2.py's uart1-costs.json (the token on UART1, on the target)")
    ap.add_argument("-n", type=int, default=9, help="runs of the fast operations (RSA-2048, EC)")
    ap.add_argument("--n-slow", type=int, default=3, help="runs of RSA-3072/4096 key generation")
    ap.add_argument("--n-scep", type=int, default=5, help="enrolments per CA key size and client")
    ap.add_argument("--n-import", type=int, default=5, help="offline imports (RSA-2048)")
    ap.add_argument("--n-life", type=int, default=5, help="background renewals")
    ap.add_argument("--n-tpm", type=int, default=5, help="runs of each operation on the TPM token")
    ap.add_argument("--keep", action="store_true", help="keep the temporary tokens and CAs")
    args = ap.parse_args()
    os.chdir(ROOT)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    t0 = time.monotonic()

    b = Bench(args)
    from scep_fixture import ScepServer
    servers = {}
    try:
        for bits in (2048, 4096):
            log(f"scepserver with an RSA-{bits} CA")
            srv = ScepServer(b.work / f"scep{bits}", key_size=bits, challenge=CHALLENGE)
            servers[bits] = srv
            srv.setup()
        if not servers[2048].netns:
            b.notes.append("not root: scepserver ran on the host's network, listening on every interface")
        b.challenge_file = b.work / "challenge"
        b.challenge_file.write_text(CHALLENGE + "\n")
        b.make_offline_ca()
        b.make_topology(servers)
        for kt in KEY_TYPES:
            n = args.n_slow if kt in ("rsa3072", "rsa4096") else args.n
            log(f"CSR {KEY_LABEL[kt]}: {n} runs of certwiz, pkcs11-tool and openssl req")
            b.bench_topology_and_csr(kt, n)
        for bits, srv in servers.items():
            log(f"SCEP against an RSA-{bits} CA: {args.n_scep} runs of certwiz and scepclient")
            b.bench_scep(bits, srv, args.n_scep)
        if os.geteuid() == 0 and os.path.exists(b.conftest.TPM_MODULE):
            log(f"TPM token: {args.n_tpm} runs of keygen + CSR per key type, and SCEP enrolments")
            b.bench_tpm(servers[2048], args.n_tpm)
        else:
            b.notes.append("not root or no tpm2-pkcs11: the TPM figures were not measured")
        log(f"lifecycle: {args.n_life} background renewals (scepserver, one-day certificates, no challenge)")
        life = ScepServer(b.work / "scep-life", key_size=2048, challenge=None, crtvalid="1")
        servers["life"] = life
        life.setup()
        b.bench_lifecycle(life, args.n_life)
        log("lifecycle: the idle cost of 8 scheduled sets")
        b.bench_idle()
        host_static = b.host_static()
        mcu = b.mcu()
    finally:
        for srv in servers.values():
            srv.close()
        b.close()
    seconds = time.monotonic() - t0
    data, md = build_report(b, mcu, host_static, seconds, started)
    (out / "bench.json").write_text(json.dumps(data, indent=1) + "\n")
    (out / "bench.md").write_text(md)
    svg = svg_ratios(data["time_rows"])
    if svg:
        (out / "ratios.svg").write_text(svg)
    sys.stdout.write(md)
    log(f"wrote {out}/bench.md, bench.json{', ratios.svg' if svg else ''} in {seconds:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        sys.exit(f"bench: {e}")
