"""A real NTP server for the SNTP tests: Debian's chronyd serving its own clock (`local stratum 8`,
the PC's time) on 127.0.0.1:123 of a network namespace, where the device reaches it from slirp as
10.0.2.2. chronyd never touches the PC's clock (-x). Needs root (a namespace of its own, port 123).
"""
import os
import shutil
import subprocess
import time

import pytest

CHRONYD = shutil.which("chronyd") or "/usr/sbin/chronyd"


def need_chrony():
    if os.geteuid() != 0:
        print("SKIP: the SNTP tests need root (a network namespace, port 123)")
        pytest.skip("needs root for a network namespace and port 123")
    if not os.path.exists(CHRONYD):
        pytest.fail("chronyd is not installed (Debian package chrony, in tools/deps/debian-packages.txt)")


def chrony_argv(tmp):
    """argv of a chronyd serving on 127.0.0.1:123 with its files in tmp (run it in the namespace)."""
    tmp.mkdir(parents=True, exist_ok=True)
    conf = tmp / "chrony.conf"
    conf.write_text("local stratum 8\nallow 127.0.0.1\nbindaddress 127.0.0.1\nport 123\ncmdport 0\n"
                    f"pidfile {tmp}/chronyd.pid\ndriftfile {tmp}/drift\n")
    return [CHRONYD, "-x", "-d", "-u", "root", "-f", str(conf)]


def wait_ntp(run_in_ns, timeout=10):
    """Until chronyd answers a client request on 127.0.0.1:123 inside the namespace."""
    probe = ("import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(0.5)\n"
             "s.sendto(b'\\x23'+bytes(47),('127.0.0.1',123))\ntry:\n s.recvfrom(100)\nexcept OSError:\n sys.exit(1)\n")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if run_in_ns(["python3", "-c", probe]).returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError("chronyd did not answer on 127.0.0.1:123")
