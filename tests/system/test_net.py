"""The device on the network (issue 6): lwIP over libslirp, the HTTP client through `http get` and
`http post`, against real servers on this PC's loopback: Python's http.server with handlers written
here, raw sockets for misbehaving servers, and nginx. Through slirp the device sees the PC's
127.0.0.1 as 10.0.2.2 (docs/network.md).

`http get` streams a body of any size through a sink that counts and hashes it (issue 15): its
`body: N bytes, SHA-256 <hex>` line is checked against hashlib over what the server sent.
"""
import hashlib
import http.server
import os
import random
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import CERTWIZ, start_device

HOST = "10.0.2.2"      # the PC's loopback, seen from the device through slirp
DIAG_MAX = 16384       # CW_NET_DIAG_BODY_MAX on the host board: `http post`'s buffer
POST_MAX = 8192        # half of it: `http post` keeps its request body in the first half


def sha(data):
    return hashlib.sha256(data).hexdigest()


def hashed(data):
    """What `http get` prints for a complete body."""
    return f"body: {len(data)} bytes, SHA-256 {sha(data)}"


_stream_bodies = {}


def stream_body(n):
    """The body of /stream/<framing>/<n>: n bytes without a short period, so that a segment
    dropped, doubled or swapped on the way changes the hash."""
    if n not in _stream_bodies:
        _stream_bodies[n] = random.Random(n).randbytes(n)
    return _stream_bodies[n]


def pattern(n):
    """The body `http post N` sends: 'abc...z' repeated."""
    return bytes(ord("a") + i % 26 for i in range(n))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lines_of(r):
    return r.stdout.splitlines()


# ---- servers ---------------------------------------------------------------------------------

CHUNKS = [1, 100, 4096, 3, 2000]
STREAM_CHUNKS = [1, 7000, 65536, 3, 1460, 20000, 300000]  # up to 300 KB: over any device buffer


class Handler(http.server.BaseHTTPRequestHandler):
    """A small CA-like web server: fixed-length, chunked and close-delimited bodies, a 404, and
    a POST echo that checks the body byte by byte."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _body(self, code, body, ctype="text/plain"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.server.seen.append((self.client_address[1], "GET", self.path))
        if self.path.startswith("/len/"):
            self._body(200, b"x" * int(self.path[5:]))
        elif self.path == "/chunked" or self.path == "/chunked/big":
            sizes = CHUNKS if self.path == "/chunked" else [4000] * 5
            self.send_response(200)
            self.send_header("Content-Type", "application/x-x509-ca-cert")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i, n in enumerate(sizes):
                ext = ";cw-ext=\"quoted; value\"" if i == 1 else ""
                self.wfile.write(b"%x%s\r\n" % (n, ext.encode()) + b"c" * n + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\nX-Checksum: none\r\n\r\n")
        elif self.path == "/close-delimited":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
            self.wfile.write(b"d" * 3333)
            self.close_connection = True
        elif self.path.startswith("/stream/"):
            self._stream(*self.path.split("/")[2:4])
        else:
            self._body(404, b"no such thing\n")

    def _stream(self, framing, n):
        """stream_body(n) framed by Content-Length, chunks of STREAM_CHUNKS sizes, or the close."""
        body = stream_body(int(n))
        if framing == "len":
            self._body(200, body, "application/octet-stream")
        elif framing == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            i = k = 0
            while i < len(body):
                part = body[i:i + STREAM_CHUNKS[k % len(STREAM_CHUNKS)]]
                self.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
                i += len(part)
                k += 1
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
            self.wfile.write(body)
            self.close_connection = True

    def do_POST(self):
        n = int(self.headers["Content-Length"])
        body = self.rfile.read(n)
        self.server.seen.append((self.client_address[1], "POST", self.path))
        self.server.posts.append((n, body == pattern(n), self.headers["Content-Type"]))
        if self.path == "/big-answer":
            self._body(200, b"a" * (DIAG_MAX + 1))
            return
        self._body(200, f"{n} {hashlib.sha256(body).hexdigest()}\n".encode())


@pytest.fixture
def pyserver():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.seen = []
    srv.posts = []
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    srv.url = lambda path: f"http://{HOST}:{srv.server_address[1]}{path}"
    yield srv
    srv.shutdown()
    srv.server_close()


class ScriptedServer:
    """A raw TCP listener on 127.0.0.1 that hands each accepted connection to script(conn)."""

    def __init__(self, script, backlog=8):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.script = script
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def url(self, path="/"):
        return f"http://{HOST}:{self.port}{path}"

    def _run(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            try:
                self.script(self, conn)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(2)


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def scripted():
    servers = []

    def make(script, **kw):
        s = ScriptedServer(script, **kw)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


# ---- nginx ---------------------------------------------------------------------------------------

NGINX_CONF = """
worker_processes 1;
{user}
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    log_format cw '$connection $connection_requests $status $request_uri $body_bytes_sent';
    access_log {d}/access.log cw;
    client_body_temp_path {d}/tmp-body;
    proxy_temp_path {d}/tmp-proxy;
    fastcgi_temp_path {d}/tmp-fastcgi;
    uwsgi_temp_path {d}/tmp-uwsgi;
    scgi_temp_path {d}/tmp-scgi;
    types {{ text/plain txt; application/pkix-cert cer; }}
    default_type application/octet-stream;
    keepalive_timeout 30;
    server {{
        listen 127.0.0.1:{port};
        root {d}/www;
        # sub_filter rewrites the body on the fly, so nginx cannot know its length: chunked.
        location /chunked/ {{
            sub_filter 'CW' 'cw';
            sub_filter_once off;
            sub_filter_types *;
        }}
    }}
}}
"""


@pytest.fixture
def nginx(tmp_path):
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(exe):
        pytest.skip("nginx is not installed (Debian nginx-light)")
    d = tmp_path / "nginx"
    www = d / "www"
    (www / "chunked").mkdir(parents=True)
    (www / "small.txt").write_bytes(b"s" * 100)
    (www / "ca.cer").write_bytes(os.urandom(1500))
    (www / "big.bin").write_bytes(b"B" * 20000)
    (www / "chunked" / "page.txt").write_bytes(b"CW and more text\n" * 300)
    (www / "chunked" / "big.txt").write_bytes(b"CW" * 10000)
    (www / "random.bin").write_bytes(os.urandom(1 << 20))
    # what the device should receive of the larger files (sub_filter makes CW cw)
    served = {"/big.bin": b"B" * 20000, "/chunked/big.txt": b"cw" * 10000,
              "/random.bin": (www / "random.bin").read_bytes()}
    port = free_port()
    (d / "nginx.conf").write_text(NGINX_CONF.format(
        d=d, port=port, user="user root;" if os.geteuid() == 0 else ""))
    proc = subprocess.Popen([exe, "-c", str(d / "nginx.conf"), "-p", str(d), "-g", "daemon off;"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 5
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                out, err = proc.communicate()
                pytest.fail(f"nginx did not start: {err.decode()}")
            time.sleep(0.05)
    proc.url = lambda path: f"http://{HOST}:{port}{path}"
    proc.log = lambda: (d / "access.log").read_text().splitlines()
    proc.served = served
    yield proc
    proc.terminate()
    proc.wait(5)


# ---- the interface -----------------------------------------------------------------------------

def wait_for_address(dev, timeout=5):
    deadline = time.time() + timeout
    while True:
        r = dev.cwctl("net")
        if "dhcp: bound" in r.stdout or "(static)" in r.stdout or time.time() > deadline:
            return r
        time.sleep(0.1)


def test_net_shows_interface_address_dhcp_and_pools(device):
    r = wait_for_address(device)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert re.search(r"^interface: en0 \(slirp 10\.0\.2\.0/24, host 10\.0\.2\.2, DNS 10\.0\.2\.3; "
                     r"frames in \d+, out \d+, dropped 0\)$", out, re.M), out
    assert "mac: 52:54:00:12:34:56" in out
    assert "link: up, interface up, mtu 1500" in out
    assert "address: 10.0.2.15/24 (DHCP)" in out
    assert "gateway: 10.0.2.2" in out
    assert "dns: 10.0.2.3" in out
    assert re.search(r"^dhcp: bound \(server 10\.0\.2\.2, lease \d+ s\)$", out, re.M), out
    assert re.search(r"^pools: TCP_PCB \d+ of 4 in use \(high \d+\), PBUF_POOL \d+ of 8 \(high \d+\), "
                     r"heap \d+ of \d+ bytes \(high \d+\); mem lists every pool$", out, re.M), out


def test_static_address_options(pyserver):
    dev = start_device("--ip", "10.0.2.20/24", "--gateway", "10.0.2.2", "--dns", "10.0.2.3")
    try:
        r = dev.cwctl("net")
        assert "address: 10.0.2.20/24 (static)" in r.stdout, r.stdout
        assert "dhcp: off (static address)" in r.stdout
        assert "gateway: 10.0.2.2" in r.stdout and "dns: 10.0.2.3" in r.stdout
        r = dev.cwctl("http", "get", pyserver.url("/len/10"))
        assert r.returncode == 0, r.stdout + r.stderr
    finally:
        assert dev.stop()[0] == 0


def test_no_network(tmp_path):
    dev = start_device("--net", "none")
    try:
        r = dev.cwctl("net")
        assert r.returncode == 1 and "NET_NO_INTERFACE" in r.stderr
        assert "interface: none (no network: certwiz was started with --net none)" in r.stdout
        r = dev.cwctl("http", "get", "http://10.0.2.2/")
        assert r.returncode == 1 and "NET_NO_INTERFACE" in r.stderr
    finally:
        assert dev.stop()[0] == 0


@pytest.mark.parametrize("args, message", [
    (["--net", "bogus"], "--net takes slirp, tap:IFNAME"),
    (["--net", "tap:"], "--net takes slirp, tap:IFNAME"),
    (["--ip", "10.0.2.20"], "--ip takes A.B.C.D/NN"),
    (["--ip", "10.0.2.20/33"], "prefix length from 1 to 30"),
    (["--ip", "10.0.2/24"], "--ip takes an IPv4 address"),
    (["--gateway", "10.0.2.2"], "--gateway and --dns go with --ip"),
    (["--dns", "1.2.3.4.5"], "--dns takes an IPv4 address"),
    (["--net", "none", "--hostfwd", "tcp::8080-:80"], "--hostfwd needs --net slirp"),
])
def test_bad_network_options_are_usage_errors(args, message):
    r = subprocess.run([str(CERTWIZ), *args], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert message in r.stderr, r.stderr


@pytest.mark.parametrize("rule", ["tcp:8080", "sctp::1-:2", "tcp::0-:80", "tcp::80-:99999", "tcp:1.2.3:80-:80"])
def test_bad_hostfwd_rule_stops_the_board(rule):
    r = subprocess.run([str(CERTWIZ), "--uart", "pty", "--hostfwd", rule], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 1
    assert "--hostfwd takes tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT" in r.stderr, r.stderr


def test_missing_tap_interface_is_named():
    r = subprocess.run([str(CERTWIZ), "--uart", "pty", "--net", "tap:cwnosuch0"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 1
    assert "--net tap:cwnosuch0: no such interface" in r.stderr


def test_hostfwd_reaches_the_device():
    """A forwarded host port on 127.0.0.1 leads into the device. Nothing listens there yet, so
    lwIP answers the forwarded connection with a reset and slirp drops the host side."""
    port = free_port()
    dev = start_device("--hostfwd", f"tcp::{port}-:7")
    try:
        wait_for_address(dev)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.settimeout(5)
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
    finally:
        assert dev.stop()[0] == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


# ---- http get against Python's http.server ------------------------------------------------------

def test_get_content_length(device, pyserver):
    url = pyserver.url("/len/1234")
    r = device.cwctl("http", "get", url)
    assert r.returncode == 0, r.stdout + r.stderr
    out = lines_of(r)
    port = url.split(":")[2].split("/")[0]
    assert out[0] == f"GET {url}"
    assert f"connecting to 10.0.2.2:{port}" in out
    assert re.search(r"^connected in \d+ ms$", r.stdout, re.M)
    assert re.search(r"^sent request \(\d+ bytes\)$", r.stdout, re.M)
    i = out.index("status 200 OK")
    assert out[i + 1:i + 4] == ["content-type: text/plain", "content-length: 1234", "connection: keep-alive"]
    assert hashed(b"x" * 1234) in out
    assert re.search(r"^time: connect \d+ ms, first byte \d+ ms, total \d+ ms$", r.stdout, re.M)
    assert out[-1] == "requests: 1 on 1 connection"
    assert pyserver.seen == [(pyserver.seen[0][0], "GET", "/len/1234")]


def test_get_chunked_with_extension_and_trailer(device, pyserver):
    r = device.cwctl("http", "get", pyserver.url("/chunked"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "content-type: application/x-x509-ca-cert" in r.stdout
    assert "transfer-encoding: chunked" in r.stdout
    assert hashed(b"c" * sum(CHUNKS)) in lines_of(r)


def test_get_close_delimited(device, pyserver):
    r = device.cwctl("http", "get", pyserver.url("/close-delimited"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "body delimited by: connection close" in r.stdout
    assert "connection: close" in r.stdout
    assert hashed(b"d" * 3333) in lines_of(r)


def test_keep_alive_reuses_one_connection(device, pyserver):
    urls = [pyserver.url("/len/10"), pyserver.url("/chunked"), pyserver.url("/len/4000")]
    r = device.cwctl("http", "get", *urls)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("connecting to ") == 1
    assert r.stdout.count("reusing the connection to 10.0.2.2:") == 2
    assert "requests: 3 on 1 connection" in r.stdout
    assert re.search(r"^time: connect 0 ms, ", r.stdout, re.M)  # a reused connection connects no more
    # the server agrees: three requests, one client port
    assert [s[2] for s in pyserver.seen] == ["/len/10", "/chunked", "/len/4000"]
    assert len({s[0] for s in pyserver.seen}) == 1


def test_post_body_arrives_intact(device, pyserver):
    n = 6000  # more than one TCP segment, more than the 4-segment send window allows at once? no: 5840
    r = device.cwctl("http", "post", pyserver.url("/scep"), str(n))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines()[0] == f"POST {pyserver.url('/scep')}"
    assert pyserver.posts == [(n, True, "application/octet-stream")]
    body_line = f"{n} {hashlib.sha256(pattern(n)).hexdigest()}\n"
    assert f"body: {len(body_line)} bytes" in r.stdout


def test_post_of_the_largest_body_then_get_on_the_same_connection(device, pyserver):
    r = device.cwctl("http", "post", pyserver.url("/scep"), str(POST_MAX))
    assert r.returncode == 0, r.stdout + r.stderr
    assert pyserver.posts == [(POST_MAX, True, "application/octet-stream")]
    r = device.cwctl("http", "post", pyserver.url("/scep"), str(POST_MAX + 1))
    assert r.returncode == 1 and "HTTP_REQUEST_TOO_LARGE" in r.stderr
    r = device.cwctl("http", "post", pyserver.url("/scep"), "0")
    assert r.returncode == 0, r.stdout + r.stderr
    assert pyserver.posts[-1] == (0, True, "application/octet-stream")


def test_404_prints_the_status_and_ends_with_a_named_error(device, pyserver):
    r = device.cwctl("http", "get", pyserver.url("/nothing-here"))
    assert r.returncode == 1
    assert "cwctl: HTTP_STATUS: The server answered with a status other than 2xx." in r.stderr
    assert "status 404 Not Found" in r.stdout
    assert "body: 14 bytes" in r.stdout


def test_chunked_body_over_the_old_limit_is_counted_and_hashed(device, pyserver):
    """20 000 bytes: `http get` refused bodies over its 16 KiB buffer (HTTP_TOO_LARGE) until it
    streamed them."""
    r = device.cwctl("http", "get", pyserver.url("/chunked/big"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "transfer-encoding: chunked" in r.stdout
    assert hashed(b"c" * 20000) in lines_of(r)


@pytest.mark.parametrize("n", [200_000, 1_000_000])
@pytest.mark.parametrize("framing, header", [("len", "content-length: {n}"),
                                             ("chunked", "transfer-encoding: chunked"),
                                             ("close", "body delimited by: connection close")])
def test_get_streams_a_large_body_and_hashes_it(device, pyserver, framing, header, n):
    """Bodies far over any device buffer (chunks up to 300 KB), in each framing: the device's
    count and SHA-256 are those of the bytes the server sent."""
    r = device.cwctl("http", "get", pyserver.url(f"/stream/{framing}/{n}"))
    assert r.returncode == 0, r.stdout + r.stderr
    out = lines_of(r)
    assert header.format(n=n) in out
    assert hashed(stream_body(n)) in out
    assert out[-1] == "requests: 1 on 1 connection"


def test_large_bodies_one_after_another_on_a_kept_alive_connection(device, pyserver):
    """Each response gets its own count and hash; the connection carries on after a large body."""
    sizes = [1_000_000, 200_000, 1]
    urls = [pyserver.url("/stream/len/1000000"), pyserver.url("/stream/chunked/200000"),
            pyserver.url("/stream/len/1")]
    r = device.cwctl("http", "get", *urls)
    assert r.returncode == 0, r.stdout + r.stderr
    assert [l for l in lines_of(r) if l.startswith("body: ")] == [hashed(stream_body(n)) for n in sizes]
    assert "requests: 3 on 1 connection" in r.stdout


def test_post_response_over_its_buffer_is_a_named_error(device, pyserver):
    """`http post` keeps its response in the rest of its buffer, bounded as before: one byte over
    is HTTP_TOO_LARGE, known from Content-Length before a byte of it is stored (DIAG_MAX + 1 is
    over the whole buffer, whatever the POST took of it)."""
    r = device.cwctl("http", "post", pyserver.url("/big-answer"), "0")
    assert r.returncode == 1
    assert "cwctl: HTTP_TOO_LARGE: The response body is larger than the buffer this request allows." in r.stderr
    assert f"content-length: {DIAG_MAX + 1}" in r.stdout
    assert "body: 0 bytes before the error" in r.stdout  # refused as the headers end
    # the console and the network stack carry on
    assert device.cwctl("http", "get", pyserver.url("/len/5")).returncode == 0


# ---- misbehaving servers ------------------------------------------------------------------------

def test_server_closing_mid_body_is_a_named_error(device, scripted):
    def script(srv, conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     b"Content-Length: 10000\r\n\r\n" + b"m" * 3000)
        time.sleep(0.2)
    srv = scripted(script)
    r = device.cwctl("http", "get", srv.url("/cacert"))
    assert r.returncode == 1
    assert "cwctl: HTTP_CLOSED: The server closed the connection before the response was complete." in r.stderr
    assert "content-length: 10000" in r.stdout
    assert "body: 3000 bytes before the error" in r.stdout


def test_server_that_never_answers_times_out(device, scripted):
    def script(srv, conn):
        read_request(conn)
        srv.stop.wait(30)
    srv = scripted(script)
    start = time.time()
    r = device.cwctl("http", "get", "timeout=2", srv.url("/"))
    took = time.time() - start
    assert r.returncode == 1
    assert "HTTP_IDLE_TIMEOUT" in r.stderr
    assert "sent request" in r.stdout and "status" not in r.stdout
    assert 1.5 < took < 10, took


def test_refused_port_is_a_named_error(device):
    r = device.cwctl("http", "get", f"http://{HOST}:{free_port()}/")
    assert r.returncode == 1
    assert "cwctl: HTTP_REFUSED: The server refused the connection: nothing listens on that port." in r.stderr


def test_server_that_never_accepts_is_a_connect_timeout(device, scripted):
    """A listener whose accept queue is full: the PC drops the SYN, slirp never completes its
    connect, and the device never hears a SYN-ACK."""
    srv = scripted(lambda s, c: None, backlog=0)
    srv.stop.set()  # stop accepting, then fill the queue
    time.sleep(0.3)
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", srv.port))
        fillers.append(s)
    time.sleep(0.2)
    try:
        r = device.cwctl("http", "get", "timeout=2", srv.url("/"))
        assert r.returncode == 1
        assert "HTTP_CONNECT_TIMEOUT" in r.stderr, r.stdout + r.stderr
        assert "connected" not in r.stdout
    finally:
        for s in fillers:
            s.close()


def test_folded_header_is_refused(device, scripted):
    def script(srv, conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Long: a\r\n folded\r\n\r\nhello")
    srv = scripted(script)
    r = device.cwctl("http", "get", srv.url("/"))
    assert r.returncode == 1 and "HTTP_MALFORMED" in r.stderr


def test_kept_alive_connection_closed_by_the_server_is_replaced(device, scripted):
    """The server answers one request per connection but says nothing about closing: the second
    GET finds the connection closed and is sent again on a new one."""
    def script(srv, conn):
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(0.1)
    srv = scripted(script)
    r = device.cwctl("http", "get", srv.url("/a"), srv.url("/b"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("body: 2 bytes") == 2
    # depending on timing the FIN arrives before or after the second request goes out
    assert ("the server closed the kept-alive connection" in r.stdout or
            r.stdout.count("connecting to ") == 2)


def test_cwctl_timeout_cancels_the_request(device, scripted):
    def script(srv, conn):
        read_request(conn)
        srv.stop.wait(30)
    srv = scripted(script)
    r = device.cwctl("http", "get", srv.url("/"), extra=("--timeout", "1"))
    assert r.returncode == 3
    # cwctl sent Ctrl-C: the command ended (ERR CANCELLED) and the console answers again
    r = device.cwctl("version")
    assert r.returncode == 0, r.stderr


# ---- URLs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, name", [
    ("https://10.0.2.2/", "HTTP_NO_TLS"),
    ("http://user:secret@10.0.2.2/", "URL_USERINFO"),
    ("ftp://10.0.2.2/", "URL_MALFORMED"),
    ("http://10.0.2.2:99999/", "URL_MALFORMED"),
    ("http://[::1]/", "URL_MALFORMED"),
    ("http://" + "a" * 64 + ".example/", "URL_MALFORMED"),  # a DNS label is at most 63 bytes
    ("http://10.0.2.2/a b", "URL_MALFORMED"),  # two words: the second is no URL
])
def test_bad_urls_are_named_before_any_traffic(device, url, name):
    r = device.cwctl("http", "get", url)
    assert r.returncode == 1
    assert f"cwctl: {name}: " in r.stderr
    assert r.stdout == ""


def test_usage(device):
    for args in (["http"], ["http", "get"], ["http", "put", "http://x/"], ["http", "get", "timeout=0", "http://x/"], ["http", "get", "timeout=2"],
                 ["http", "post", "http://x/"], ["http", "post", "http://x/", "ten"], ["net", "extra"]):
        r = device.cwctl(*args)
        assert r.returncode == 1 and "USAGE" in r.stderr, args


# ---- nginx -------------------------------------------------------------------------------------------

def test_nginx_length_and_chunked_on_one_kept_alive_connection(device, nginx):
    r = device.cwctl("http", "get", nginx.url("/small.txt"), nginx.url("/ca.cer"), nginx.url("/chunked/page.txt"))
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert "content-length: 100" in out and "body: 100 bytes" in out
    assert "content-type: application/pkix-cert" in out and "body: 1500 bytes" in out
    assert "transfer-encoding: chunked" in out and f"body: {17 * 300} bytes" in out
    assert "requests: 3 on 1 connection" in out
    # nginx logs a request after it has sent the response, so the client may finish first:
    # wait (bounded) for the third line rather than race it
    deadline = time.monotonic() + 5
    while len(nginx.log()) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    log = [l.split() for l in nginx.log()]
    assert [l[1:4] for l in log] == [["1", "200", "/small.txt"], ["2", "200", "/ca.cer"],
                                     ["3", "200", "/chunked/page.txt"]]
    assert len({l[0] for l in log}) == 1  # nginx's connection serial number: one connection


def test_nginx_404(device, nginx):
    r = device.cwctl("http", "get", nginx.url("/no/such/cert.cer"))
    assert r.returncode == 1 and "HTTP_STATUS" in r.stderr
    assert "status 404 Not Found" in r.stdout
    assert "content-type: text/html" in r.stdout


@pytest.mark.parametrize("path, framing", [("/big.bin", "content-length: 20000"),
                                           ("/chunked/big.txt", "transfer-encoding: chunked"),
                                           ("/random.bin", "content-length: 1048576")])
def test_nginx_bodies_over_any_buffer_are_counted_and_hashed(device, nginx, path, framing):
    r = device.cwctl("http", "get", nginx.url(path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert framing in r.stdout
    assert hashed(nginx.served[path]) in lines_of(r)


# ---- the wire format and the pools -------------------------------------------------------------

def test_progress_lines_all_end_in_crlf(device, pyserver):
    """Read the pty raw: every line of an asynchronous command ends with CR LF, and none is a
    partial line ending in ': ' (cwctl would take it for a prompt)."""
    import select
    import termios
    import tty
    fd = os.open(device.port, os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd)
        while select.select([fd], [], [], 0.3)[0]:  # the banner and prompt from the start
            os.read(fd, 4096)
        os.write(fd, f"http get {pyserver.url('/chunked')} {pyserver.url('/nothing')}\r".encode())
        data = b""
        deadline = time.time() + 10
        while not data.endswith(b"certwiz> ") and time.time() < deadline:
            if select.select([fd], [], [], 0.5)[0]:
                data += os.read(fd, 4096)
        termios.tcflush(fd, termios.TCIFLUSH)
    finally:
        os.close(fd)
    assert data.endswith(b"\r\ncertwiz> "), data
    body = data[:-len(b"certwiz> ")]
    assert body.endswith(b"\r\n")
    for line in body[:-2].split(b"\r\n"):
        assert b"\r" not in line and b"\n" not in line, line
        assert not line.endswith(b": "), line
    assert b"\r\nERR HTTP_STATUS: " in body


def test_mem_after_traffic_shows_high_water_marks_and_no_errors(device, pyserver, nginx):
    urls = [pyserver.url("/len/1000"), pyserver.url("/chunked"), pyserver.url("/close-delimited"),
            pyserver.url("/stream/chunked/1000000")]
    assert device.cwctl("http", "get", *urls).returncode == 0
    assert device.cwctl("http", "post", pyserver.url("/scep"), str(POST_MAX)).returncode == 0
    assert device.cwctl("http", "get", nginx.url("/small.txt"), nginx.url("/chunked/page.txt")).returncode == 0
    for _ in range(6):  # more connections than TCP_PCBs: TIME_WAIT pcbs are recycled
        assert device.cwctl("http", "get", pyserver.url("/len/10")).returncode == 0
    assert device.cwctl("http", "get", pyserver.url("/nothing")).returncode == 1
    r = device.cwctl("mem")
    assert r.returncode == 0
    pools = {}
    for m in re.finditer(r"^\s+(\S.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", r.stdout, re.M):
        pools[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    print("\n" + r.stdout)  # the figures docs/network.md quotes (pytest -s shows them)
    for name, (size, used, high, errors) in pools.items():
        assert errors == 0, f"{name}: {errors} allocation errors"
        assert high <= size, name
    for name in ("HEAP (bytes)", "TCP_PCB", "TCP_SEG", "PBUF_POOL", "PBUF_REF/ROM", "ALTCP_PCB", "UDP_PCB"):
        assert pools[name][2] > 0, f"{name} shows no high-water mark"
    r = device.cwctl("net")
    assert "dropped 0" in r.stdout
