"""The build's own guarantees: the no-malloc link check and the pinned third-party sources."""
import os
import re
import shutil
import subprocess
import time

from conftest import ROOT


def test_malloc_in_firmware_fails_the_build_naming_object_and_symbol(tmp_path):
    """A malloc call compiled as part of the core must stop the build before the link."""
    build = tmp_path / "build"
    r = subprocess.run(["make", "-j2", f"BUILD={build}",
                        "CW_EXTRA_SRCS=tests/build/malloc_probe.c", f"{build}/certwiz"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0
    probe = f"{build}/obj/tests/build/malloc_probe.o"
    assert f"no-malloc check: {probe} references malloc" in r.stderr
    assert f"no-malloc check: {probe} references free" in r.stderr
    assert not (build / "certwiz").exists()


def test_the_real_build_passes_the_malloc_check():
    r = subprocess.run(["tools/check-no-malloc.sh",
                        *map(str, (ROOT / "build/host/obj/firmware").rglob("*.o")),
                        *map(str, (ROOT / "build/host/mbedtls").glob("*.o")),
                        *map(str, (ROOT / "build/host/lwip").rglob("*.o"))],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "none references malloc" in r.stdout


def _copy_cache(tmp_path):
    """A third_party directory holding only the real download cache (so no network is used)."""
    tp = tmp_path / "third_party"
    shutil.copytree(ROOT / "third_party/downloads", tp / "downloads")
    return tp


def test_deps_checksum_mismatch_stops_and_says_how_to_update(tmp_path):
    tp = _copy_cache(tmp_path)
    pins = tmp_path / "pins.txt"
    real = (ROOT / "tools/deps/pins.txt").read_text()
    pins.write_text(real.replace("8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a",
                                 "0" * 64))
    r = subprocess.run(["tools/deps/fetch.sh", "--no-packages"], cwd=ROOT, capture_output=True,
                       text=True, env={**os.environ, "CW_PINS": str(pins), "CW_THIRD_PARTY": str(tp)})
    assert r.returncode != 0
    assert "mbedtls: checksum mismatch for mbedtls_3.6.6.orig.tar.bz2" in r.stderr
    assert "pinned:  " + "0" * 64 in r.stderr
    assert "fetched: 8fb65fae8dcae5840f793c0a334860a411f884cc537ea290ce1c52bb64ca007a" in r.stderr
    assert "tools/deps/pins.txt" in r.stderr
    assert not (tp / "mbedtls").exists()


def test_deps_new_upstream_release_is_named(tmp_path):
    tp = _copy_cache(tmp_path)
    pins = tmp_path / "pins.txt"
    pins.write_text("lwip lwip_2.2.9+dfsg1.orig.tar.xz " + "1" * 64 + "\n")
    r = subprocess.run(["tools/deps/fetch.sh", "--no-packages"], cwd=ROOT, capture_output=True,
                       text=True, env={**os.environ, "CW_PINS": str(pins), "CW_THIRD_PARTY": str(tp)})
    assert r.returncode != 0
    assert "not the pinned lwip_2.2.9+dfsg1.orig.tar.xz" in r.stderr
    assert "lwip_2.2.1+dfsg1.orig.tar.xz" in r.stderr


def test_deps_unpack_from_cache_applies_debian_patches_and_is_then_a_noop(tmp_path):
    tp = _copy_cache(tmp_path)
    env = {**os.environ, "CW_THIRD_PARTY": str(tp)}
    r = subprocess.run(["tools/deps/fetch.sh", "--no-packages"], cwd=ROOT, capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "mbedtls_3.6.6.orig.tar.bz2 verified" in r.stdout
    assert (tp / "mbedtls/include/mbedtls/build_info.h").exists()
    assert (tp / "lwip/src/core/tcp.c").exists()
    # Debian's patch series was applied by dpkg-source
    assert (tp / "mbedtls/debian/patches").is_dir()
    assert "100-fix-gcc14-build.patch" in (tp / "mbedtls/.pc/applied-patches").read_text()
    # a second run does nothing and says nothing
    r = subprocess.run(["tools/deps/fetch.sh", "--no-packages"], cwd=ROOT, capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0
    assert r.stdout == "" and r.stderr == ""


def _layers(root):
    return subprocess.run(["python3", str(ROOT / "tools/check-layers.py"), str(root)],
                          capture_output=True, text=True)


def test_the_real_tree_keeps_its_layers():
    r = _layers(ROOT)
    assert r.returncode == 0, r.stderr
    assert "includes run one way, no cycle" in r.stdout


def test_an_include_against_the_layers_is_named(tmp_path):
    """A codec that reaches up into the core, a codec that touches the board, a pkcs11 file that
    includes a codec, and a cycle between two base headers are each named by file."""
    tree = tmp_path / "tree"
    for d in ("firmware", "pkcs11"):
        shutil.copytree(ROOT / d, tree / d)
    (tree / "firmware/src/codec/cw_pem.c").write_text(
        (ROOT / "firmware/src/codec/cw_pem.c").read_text() + '#include "cw/core/cw_model.h"\n'
        '#include "hal_clock.h"\n')
    p11 = next((tree / "pkcs11").rglob("*.c"))
    p11.write_text(p11.read_text() + '#include "cw/codec/cw_pem.h"\n')
    for a, b in (("cw_hex.h", "cw_wipe.h"), ("cw_wipe.h", "cw_hex.h")):
        f = tree / "firmware/include/cw/base" / a
        f.write_text(f.read_text() + f'#include "cw/base/{b}"\n')
    r = _layers(tree)
    assert r.returncode == 1
    assert ("firmware/src/codec/cw_pem.c includes cw/core/cw_model.h: the codec layer may include "
            "base, pkcs11") in r.stderr
    assert "firmware/src/codec/cw_pem.c includes hal_clock.h: the codec layer never touches the board" in r.stderr
    assert f"{p11.relative_to(tree)} includes cw/codec/cw_pem.h: the pkcs11 layer may include base" in r.stderr
    assert re.search(r"include cycle: firmware/include/cw/base/cw_(hex|wipe)\.h -> "
                     r"firmware/include/cw/base/cw_(hex|wipe)\.h -> ", r.stderr)
