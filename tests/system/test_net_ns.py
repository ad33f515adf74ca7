"""The network in private network namespaces the tests create (issue 6): DNS names through slirp
(a DNS server on the namespace's own loopback), and the TAP wire (a tap device in the namespace,
certwiz running inside it). Both need root (ip netns add, /dev/net/tun); elsewhere they are
skipped with the reason. Nothing here leaves the namespaces.
"""
import os
import re
import shutil
import subprocess
import time

import pytest

from conftest import CERTWIZ, Device

HTTP_SERVER = r"""
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        print("GET", self.client_address[1], self.path, flush=True)
        body = ("hello from the namespace: " + self.path + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
srv = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H)
print("ready", flush=True)
srv.serve_forever()
"""

# A DNS server for one name (RFC 1035 4.1): A ca.certwiz.test -> 10.0.2.2, NXDOMAIN for the rest.
DNS_SERVER = r"""
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("ready", flush=True)
while True:
    q, peer = s.recvfrom(512)
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
    question = q[12:i + 5]
    name = ".".join(labels).lower()
    print("query", name, qtype, flush=True)
    if name == "ca.certwiz.test" and qtype == 1:
        answer = struct.pack("!HHHLH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton("10.0.2.2")
        s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + answer, peer)
    else:
        s.sendto(struct.pack("!HHHHHH", qid, 0x8183, 1, 0, 0, 0) + question, peer)
"""


# One ICMP echo (RFC 792) on a raw socket: `ping` is not installed everywhere.
PING = r"""
import os, socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF
ident = os.getpid() & 0xFFFF
data = b"certwiz!"
pkt = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + data
pkt = struct.pack("!BBHHH", 8, 0, csum(pkt), ident, 1) + data
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
s.sendto(pkt, (sys.argv[1], 0))
while True:
    r, peer = s.recvfrom(1500)
    ihl = (r[0] & 15) * 4
    kind, _, _, rid, _ = struct.unpack("!BBHHH", r[ihl:ihl + 8])
    if kind == 0 and rid == ident and r[ihl + 8:] == data:
        print("echo reply from", peer[0])
        break
"""


class Netns:
    def __init__(self, name):
        self.name = name
        self.procs = []

    def ip(self, *args):
        r = subprocess.run(["ip", "-n", self.name, *args], capture_output=True, text=True)
        assert r.returncode == 0, f"ip -n {self.name} {' '.join(args)}: {r.stderr}"

    def spawn(self, *cmd):
        """Start a helper inside the namespace; waits for its 'ready' line."""
        p = subprocess.Popen(["ip", "netns", "exec", self.name, *cmd], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        if line.strip() != "ready":
            p.kill()
            pytest.fail(f"{cmd[:3]} did not start in {self.name}: {line!r} {p.stderr.read()!r}")
        self.procs.append(p)
        return p

    def device(self, *args):
        """certwiz inside the namespace; its pty is reachable from outside (one devpts)."""
        p = subprocess.Popen(["ip", "netns", "exec", self.name, str(CERTWIZ), "--uart", "pty", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = p.stdout.readline()
        m = re.match(r"certwiz: console on (/dev/pts/\d+)", line)
        if not m:
            p.kill()
            raise RuntimeError(f"certwiz did not announce its pty: {line!r} {p.communicate()!r}")
        return Device(p, m.group(1))

    def close(self):
        for p in self.procs:
            p.kill()
            p.communicate()
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)


def why_no_namespace():
    if os.geteuid() != 0:
        return "needs root to create a network namespace (ip netns add) and a tap device"
    if shutil.which("ip") is None:
        return "the ip tool (iproute2) is not installed"
    return None


@pytest.fixture
def netns():
    reason = why_no_namespace()
    if reason:
        pytest.skip(reason)
    name = f"cwnet{os.getpid()}"
    subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {r.stderr.strip()}")
    ns = Netns(name)
    try:
        ns.ip("link", "set", "lo", "up")
        yield ns
    finally:
        ns.close()


def test_dns_name_through_slirp(netns):
    """lwIP's resolver asks 10.0.2.2:53, which slirp maps to the namespace's own 127.0.0.1:53."""
    dns = netns.spawn("/usr/bin/python3", "-c", DNS_SERVER)
    netns.spawn("/usr/bin/python3", "-c", HTTP_SERVER, "127.0.0.1", "8080")
    dev = netns.device("--ip", "10.0.2.15/24", "--gateway", "10.0.2.2", "--dns", "10.0.2.2")
    try:
        assert "dns: 10.0.2.2" in dev.cwctl("net").stdout
        r = dev.cwctl("http", "get", "http://ca.certwiz.test:8080/cacert", "http://CA.certwiz.test:8080/again")
        assert r.returncode == 0, r.stdout + r.stderr
        out = r.stdout.splitlines()
        assert out[:2] == ["GET http://ca.certwiz.test:8080/cacert", "resolving ca.certwiz.test"]
        assert "connecting to 10.0.2.2:8080" in out
        assert "status 200 OK" in out
        assert "requests: 2 on 1 connection" in out  # host names compare without case
        r = dev.cwctl("http", "get", "http://nosuch.certwiz.test:8080/")
        assert r.returncode == 1
        assert "cwctl: DNS_FAILED: The host name could not be resolved." in r.stderr
        assert "resolving nosuch.certwiz.test" in r.stdout
        r = dev.cwctl("mem")
        # 4 pcbs: DHCP, two DNS source ports, SNTP (lwipopts.h); the two DNS queries used at most 3
        assert re.search(r"^\s+UDP_PCB\s+4\s+\d+\s+[1-4]\s+0$", r.stdout, re.M), r.stdout
    finally:
        assert dev.stop()[0] == 0
    dns.kill()
    queries = dns.communicate()[0]
    assert "query ca.certwiz.test 1" in queries
    assert "query nosuch.certwiz.test 1" in queries


def test_tap_interface(netns):
    if not os.path.exists("/dev/net/tun"):
        pytest.skip("no /dev/net/tun on this machine: TAP devices are not available")
    netns.ip("tuntap", "add", "dev", "cwtap0", "mode", "tap")
    netns.ip("addr", "add", "192.168.77.1/24", "dev", "cwtap0")
    netns.ip("link", "set", "cwtap0", "up")
    srv = netns.spawn("/usr/bin/python3", "-c", HTTP_SERVER, "192.168.77.1", "8080")
    dev = netns.device("--net", "tap:cwtap0", "--ip", "192.168.77.2/24", "--gateway", "192.168.77.1")
    try:
        deadline = time.time() + 5
        while "link: up" not in (r := dev.cwctl("net")).stdout and time.time() < deadline:
            time.sleep(0.2)
        assert re.search(r"^interface: en0 \(tap:cwtap0; frames in \d+, out \d+, dropped 0\)$", r.stdout, re.M), r.stdout
        assert "address: 192.168.77.2/24 (static)" in r.stdout
        assert "gateway: 192.168.77.1" in r.stdout
        assert "link: up" in r.stdout

        r = dev.cwctl("http", "get", "http://192.168.77.1:8080/one", "http://192.168.77.1:8080/two")
        assert r.returncode == 0, r.stdout + r.stderr
        assert "connecting to 192.168.77.1:8080" in r.stdout
        assert r.stdout.count("status 200 OK") == 2
        assert "requests: 2 on 1 connection" in r.stdout

        # the namespace reaches the device too: lwIP answers ping
        p = subprocess.run(["ip", "netns", "exec", netns.name, "/usr/bin/python3", "-c", PING, "192.168.77.2"],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0 and "echo reply from 192.168.77.2" in p.stdout, p.stdout + p.stderr

        # unplug: the link follows the interface, and a request waits for it, then gives up
        netns.ip("link", "set", "cwtap0", "down")
        time.sleep(1.2)
        assert "link: down" in dev.cwctl("net").stdout
        r = dev.cwctl("http", "get", "timeout=1", "http://192.168.77.1:8080/down")
        assert r.returncode == 1 and "NET_DOWN" in r.stderr
        assert "waiting for the network (link up and an address)" in r.stdout
        netns.ip("link", "set", "cwtap0", "up")
        time.sleep(1.2)
        r = dev.cwctl("http", "get", "http://192.168.77.1:8080/back")
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        assert dev.stop()[0] == 0
    srv.kill()
    assert [l.split()[2] for l in srv.communicate()[0].splitlines() if l.startswith("GET")] == \
        ["/one", "/two", "/back"]
