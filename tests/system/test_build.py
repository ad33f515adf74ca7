"""The build's own guarantees: the no-malloc link check and the pinned third-party sources."""
import os
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
