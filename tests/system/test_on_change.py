"""The host board's --on-change hook (issue 16): a service that serves a role's key from the token
restarts when the role's certificate changes, and serves the new one.

The hook is a plain shell script, as an appliance integrator would write it: it exports the role's
certificate with p11tool through CW_CERT_URI and (re)starts `openssl s_server`, whose key is the
token's, opened by OpenSSL's pkcs11 engine through CW_KEY_URI. openssl s_client then says which
certificate is served."""
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from conftest import SOFTHSM_MODULE, start_device
from offline_pki import OfflineCA, csr_of, topology_pem

HOOK = r"""#!/bin/sh
# certwiz --on-change: log the event, and restart the TLS service when its role changes.
dir="$(dirname "$0")"
{ env | grep '^CW_' | sort; echo; } >> "$dir/events.env"
echo "$CW_EVENT $CW_ROLE $CW_SET $CW_OLD_GENERATION $CW_GENERATION" >> "$dir/events"
[ "$CW_ROLE" = EdgeExternal ] || exit 0
case "$CW_EVENT" in assigned|renewed) ;; *) exit 0 ;; esac
p11tool --provider "$CW_PKCS11_MODULE" --export "$CW_CERT_URI" > "$dir/served.pem" || exit 3
[ -f "$dir/server.pid" ] && kill "$(cat "$dir/server.pid")" 2>/dev/null && sleep 0.2
PKCS11_MODULE_PATH="$CW_PKCS11_MODULE" openssl s_server -quiet -accept "127.0.0.1:$(cat "$dir/port")" \
    -engine pkcs11 -keyform engine -key "$CW_KEY_URI;pin-value=$(cat "$dir/service-pin")" \
    -cert "$dir/served.pem" -naccept 1000 </dev/null >>"$dir/server.log" 2>&1 &
echo $! > "$dir/server.pid"
echo "$CW_GENERATION" > "$dir/restarted"
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def served_serial(port):
    """The serial number of the certificate served on port, as openssl s_client sees it."""
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-showcerts"],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", r.stdout, re.S)
    if not m:
        return None
    return subprocess.run(["openssl", "x509", "-noout", "-serial"], input=m.group(0),
                          capture_output=True, text=True, check=True).stdout.strip()


def serial_of(pem_path):
    return subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", str(pem_path)],
                          capture_output=True, text=True, check=True).stdout.strip()


def wait_for(what, cond, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def hooked(token, tmp_path):
    ca = OfflineCA(tmp_path)
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    hook = hook_dir / "on-change.sh"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    port = free_port()
    (hook_dir / "port").write_text(f"{port}\n")
    (hook_dir / "service-pin").write_text(token.pin)
    dev = start_device("--module", SOFTHSM_MODULE, "--token", f"pkcs11:token={token.label}",
                       "--on-change", str(hook), env=token.env)
    dev.token, dev.tmp, dev.ca, dev.hook_dir, dev.tls_port = token, tmp_path, ca, hook_dir, port
    pem, _ = topology_pem(tmp_path, ca.root_sha256)
    assert dev.cwctl("login", pin_file=token.pin_file).returncode == 0
    assert dev.cwctl("topology", "load", extra=("--input", str(pem))).returncode == 0
    yield dev
    rc, err = dev.stop()
    pid = hook_dir / "server.pid"
    if pid.exists():
        try:
            os.kill(int(pid.read_text()), signal.SIGTERM)
        except ProcessLookupError:
            pass
    assert rc == 0, err


def enrol(dev, name):
    """request external offline, sign with openssl ca, import; returns the issued PEM path."""
    r = dev.cwctl("request", "external", "offline")
    assert r.returncode == 0, r.stderr
    leaf = dev.ca.sign(csr_of(r.stdout), name)
    f = dev.tmp / f"{name}.in"
    f.write_text(dev.ca.bundle(leaf, "int", "root"))
    r = dev.cwctl("import", "external", extra=("--paste", str(f)), timeout=120)
    assert r.returncode == 0, r.stderr
    return leaf


def events(dev):
    f = dev.hook_dir / "events"
    return f.read_text().splitlines() if f.exists() else []


def test_a_renewed_role_restarts_the_service_that_serves_it(hooked):
    first = enrol(hooked, "first")
    wait_for("the hook to start the service",
             lambda: (hooked.hook_dir / "restarted").exists())
    assert wait_for("the first certificate served", lambda: served_serial(hooked.tls_port)) == serial_of(first)
    assert "assigned EdgeExternal external 0 1" in events(hooked)

    second = enrol(hooked, "second")
    assert serial_of(second) != serial_of(first)
    wait_for("the renewed event", lambda: "renewed EdgeExternal external 1 2" in events(hooked))
    assert wait_for("the new certificate served",
                    lambda: served_serial(hooked.tls_port) == serial_of(second) and serial_of(second))

    # what the hook saw: the key's and certificate's URIs name the token, the set and the new CKA_ID
    env = (hooked.hook_dir / "events.env").read_text().split("\n\n")
    renewed = next(block for block in env if "CW_EVENT=renewed" in block)
    assert f"CW_KEY_URI=pkcs11:token={hooked.token.label};object=external;id=" in renewed
    assert ";type=private" in renewed and ";type=cert" in renewed
    assert f"CW_PKCS11_MODULE={SOFTHSM_MODULE}" in renewed
    assert "CW_OLD_GENERATION=1" in renewed and "CW_GENERATION=2" in renewed
    assert "PIN" not in "".join(env).upper().replace("CW_PKCS11", "")


def test_a_failing_hook_is_reported_and_the_device_carries_on(token, tmp_path):
    ca = OfflineCA(tmp_path)
    dev = start_device("--module", SOFTHSM_MODULE, "--token", f"pkcs11:token={token.label}",
                       "--on-change", "exit 7", env=token.env)
    dev.tmp, dev.ca = tmp_path, ca
    pem, _ = topology_pem(tmp_path, ca.root_sha256)
    assert dev.cwctl("login", pin_file=token.pin_file).returncode == 0
    assert dev.cwctl("topology", "load", extra=("--input", str(pem))).returncode == 0
    enrol(dev, "only")
    assert "role EdgeExternal: set external, assigned" in dev.cwctl("roles").stdout
    rc, err = dev.stop()
    assert rc == 0
    assert "--on-change command exited with 7" in err
