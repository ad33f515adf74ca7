"""The token through the console: login, logout, token, keys (issue 3), on a real SoftHSM2."""
import re
import signal
import subprocess
import time

import pexpect

from conftest import CERTWIZ, SOFTHSM_MODULE, start_device


def test_status_and_token_info(device_with_token):
    dev = device_with_token
    r = dev.cwctl("status")
    assert r.returncode == 0
    assert re.search(r"^token: edge1 \(serial [0-9a-f]+\), user logged out$", r.stdout, re.M)
    r = dev.cwctl("token")
    assert r.returncode == 0, r.stderr
    assert "label: edge1" in r.stdout
    assert "manufacturer: SoftHSM project" in r.stdout
    assert "model: SoftHSM v2" in r.stdout
    assert re.search(r"^serial: [0-9a-f]{16}$", r.stdout, re.M)
    assert "free private memory: unknown (the token does not tell)" in r.stdout
    assert "user: logged out" in r.stdout


def test_wrong_pin_gives_the_tokens_answer_and_changes_nothing(device_with_token, tmp_path):
    dev = device_with_token
    bad = tmp_path / "bad"
    bad.write_text("0000\n")
    r = dev.cwctl("login", pin_file=bad)
    assert r.returncode == 1
    assert "cwctl: CKR_PIN_INCORRECT: The PIN is incorrect." in r.stderr
    assert "0000" not in r.stdout + r.stderr
    assert "user logged out" in dev.cwctl("status").stdout
    r = dev.cwctl("keys")
    assert r.returncode == 1 and "NOT_LOGGED_IN" in r.stderr


def test_login_then_keys_lists_keys_made_by_other_tools(device_with_token):
    dev = device_with_token
    dev.token.tool("--keypairgen", "--key-type", "rsa:2048", "--label", "made-rsa", "--id", "a1b2")
    dev.token.tool("--keypairgen", "--key-type", "EC:secp384r1", "--label", "made-ec", "--id", "c3d4")
    r = dev.cwctl("login", pin_file=dev.token.pin_file)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "logged in"
    assert dev.token.pin not in r.stdout + r.stderr
    r = dev.cwctl("keys")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^made-rsa\s+RSA-2048\s+a1b2$", r.stdout, re.M), r.stdout
    assert re.search(r"^made-ec\s+EC P-384\s+c3d4$", r.stdout, re.M), r.stdout
    assert "2 key pairs" in r.stdout
    assert "user logged in" in dev.cwctl("status").stdout
    r = dev.cwctl("logout")
    assert r.returncode == 0 and "logged out" in r.stdout
    assert dev.cwctl("keys").returncode == 1


def test_idle_logout(token):
    dev = start_device("--module", SOFTHSM_MODULE, "--token", f"pkcs11:token={token.label}",
                       "--idle-logout", "1", env=token.env)
    try:
        assert dev.cwctl("login", pin_file=token.pin_file).returncode == 0
        assert dev.cwctl("keys").returncode == 0
        time.sleep(2.5)
        assert "user logged out" in dev.cwctl("status").stdout
        r = dev.cwctl("keys")
        assert r.returncode == 1 and "NOT_LOGGED_IN" in r.stderr
    finally:
        assert dev.stop()[0] == 0


def test_token_selected_by_serial_and_default_module(token):
    serial = re.search(r"serial num\s*:\s*([0-9a-f]+)",
                       subprocess.run(["pkcs11-tool", "--module", SOFTHSM_MODULE, "-L"],
                                      env=token.env, capture_output=True, text=True).stdout).group(1)
    # no --module: p11-kit's configuration of softhsm2 is used
    dev = start_device("--token", f"pkcs11:serial={serial}", env=token.env)
    try:
        assert f"token: edge1 (serial {serial})" in dev.cwctl("status").stdout
    finally:
        assert dev.stop()[0] == 0


def test_no_matching_token_is_named(token):
    dev = start_device("--module", SOFTHSM_MODULE, "--token", "pkcs11:token=nosuch", env=token.env)
    try:
        r = dev.cwctl("status")
        assert r.returncode == 0
        assert "token: none (TOKEN_NOT_FOUND: No token matches the configured token URI.)" in r.stdout
        r = dev.cwctl("login", pin_file=token.pin_file)
        assert r.returncode == 1 and "TOKEN_NOT_FOUND" in r.stderr
    finally:
        assert dev.stop()[0] == 0


def test_bad_token_uri_is_named(token):
    dev = start_device("--module", SOFTHSM_MODULE, "--token", "pkcs11:token=%zz", env=token.env)
    try:
        assert "token: none (URI: " in dev.cwctl("status").stdout
    finally:
        assert dev.stop()[0] == 0


def test_missing_module_is_reported_and_console_works(token):
    dev = start_device("--module", "/nonexistent/libnothing.so", env=token.env)
    try:
        r = dev.cwctl("status")
        assert r.returncode == 0
        assert "token: none (NO_TOKEN" in r.stdout
        assert dev.cwctl("token").returncode == 1
    finally:
        rc, err = dev.stop()
        assert rc == 0
        assert "cannot load PKCS#11 module /nonexistent/libnothing.so" in err


def test_pin_is_not_echoed_to_a_person(token):
    """A person at the terminal types the PIN: the console does not echo it."""
    child = pexpect.spawn(str(CERTWIZ), ["--uart", "stdio", "--module", SOFTHSM_MODULE],
                          env=token.env, timeout=10, encoding="utf-8")
    child.expect_exact("certwiz> ")
    child.send("login\r")
    child.expect_exact("PIN (hidden): ")
    child.send(token.pin + "\r")
    child.expect_exact("logged in")
    child.expect_exact("OK")
    assert token.pin not in child.before
    child.sendintr()
    child.expect(pexpect.EOF)


def test_pin_on_the_command_line_is_refused(device_with_token):
    r = device_with_token.cwctl("login", "1234")
    assert r.returncode == 1 and "USAGE" in r.stderr
    assert "user logged out" in device_with_token.cwctl("status").stdout


def test_cwctl_without_pin_source_fails_cleanly(device_with_token):
    r = device_with_token.cwctl("login")
    assert r.returncode == 2
    assert "secret" in r.stderr
    # the device did not keep the PIN prompt open
    assert device_with_token.cwctl("version").returncode == 0
