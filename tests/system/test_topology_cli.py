"""cwctl topology compile|show|derive: the PC side of the topology blob (docs/topology.md).

Checked with tools nobody here wrote: `openssl asn1parse -inform DER` must parse every blob cwctl
makes, and the JSON comparisons go through Python's json module.
"""
import json
import shutil
import subprocess

import pytest

from conftest import CWCTL, ROOT

EXAMPLE_JSON = ROOT / "docs/examples/edge-appliance.json"
EXAMPLE_DER = ROOT / "docs/examples/edge-appliance.der"


def cwctl(*args, stdin=None):
    return subprocess.run([str(CWCTL), *map(str, args)], capture_output=True, timeout=30,
                          input=stdin)


def compile_json(tmp_path, doc, name="site"):
    """Writes doc (a dict or JSON text) and compiles it; returns (CompletedProcess, der path)."""
    src = tmp_path / f"{name}.json"
    src.write_text(doc if isinstance(doc, str) else json.dumps(doc, indent=2, ensure_ascii=False),
                   encoding="utf-8")
    der = tmp_path / f"{name}.der"
    return cwctl("topology", "compile", src, "-o", der), der


def asn1parse(der):
    r = subprocess.run(["openssl", "asn1parse", "-inform", "DER", "-in", str(der), "-i"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout


# Valid topologies beside the example, each in canonical form (what `show` prints back).
MINIMAL = {
    "version": 1,
    "appliance": {"host": "a.example", "site": "s"},
    "subject": {},
    "caProfiles": [{"name": "p", "protocol": "offline"}],
    "sets": [{"name": "s", "roles": ["r"], "caProfile": "p", "eku": ["clientAuth"]}],
}

FEATURES = {
    "version": 1,
    "appliance": {"host": "edge02.example.org", "site": "Zürich HQ",
                  "addresses": ["192.0.2.7", "2001:db8::7", "::ffff:192.0.2.7"]},
    "subject": {"organization": "Example, Inc.", "country": "CH"},
    "domains": ["example.org"],
    "caProfiles": [
        {"name": "acme", "protocol": "acme", "url": "https://[2001:db8::53]:14000/dir?x=%20",
         "keyType": "ecP384", "renewPercent": 1, "pollSeconds": 86400},
        {"name": "scep2", "protocol": "scep", "url": "http://ca/scep",
         "caFingerprint": ":".join(["00", "11", "22", "33", "44", "55", "66", "77"] * 4),
         "keyType": "rsa4096", "renewPercent": 99, "pollSeconds": 10},
    ],
    "sets": [
        {"name": "wild", "roles": ["WebServicesExternal", "EdgeInternal"], "caProfile": "acme",
         "eku": ["serverAuth"], "cn": "*.{domain}",
         "san": [{"dns": "*.{domain}"}, {"dns": "{host}"}, {"ip": "2001:db8::7"}],
         "tokenUri": "PKCS11:token=My%20Token;object=wild;id=%01%02"},
        {"name": "rsa", "roles": ["Default"], "caProfile": "scep2", "keyType": "rsa3072",
         "eku": ["serverAuth", "clientAuth"], "tokenUri": "pkcs11:"},
    ],
}


def limits_doc():
    return {
        "version": 1,
        "appliance": {"host": "edge.example.com", "site": "lab",
                      "addresses": [f"10.0.0.{i}" for i in range(4)]},
        "subject": {"organization": "O", "organizationalUnit": "OU", "locality": "L",
                    "state": "ST", "country": "US"},
        "domains": [f"d{i}.example-{i}.net" for i in range(8)],
        "caProfiles": [{"name": f"p{i}", "protocol": "offline"} for i in range(4)],
        "sets": [{"name": f"s{i}", "roles": [f"r{i}_{k}" for k in range(2)],
                  "caProfile": f"p{i % 4}", "eku": ["serverAuth"],
                  "san": [{"dns": f"a{k}.{{domain}}"} for k in range(3)] + [{"ip": "10.0.0.1"}]}
                 for i in range(8)],
    }


# ---- the example ------------------------------------------------------------------------------

def test_example_compiles_to_the_committed_der(tmp_path):
    out = tmp_path / "edge.der"
    r = cwctl("topology", "compile", EXAMPLE_JSON, "-o", out)
    assert r.returncode == 0, r.stderr
    assert r.stderr == b""
    assert out.read_bytes() == EXAMPLE_DER.read_bytes()


def test_openssl_parses_the_example():
    text = asn1parse(EXAMPLE_DER)
    for expected in ("IA5STRING         :edge01.contoso.com", "UTF8STRING        :redmond",
                     "IA5STRING         :fabrikam.com", "UTF8STRING        :lab-scep",
                     "UTF8STRING        :OAuthTokenIssuer", "BIT STRING", "ENUMERATED"):
        assert expected in text


def test_show_prints_the_example_back_exactly(tmp_path):
    r = cwctl("topology", "show", EXAMPLE_DER)
    assert r.returncode == 0, r.stderr
    # the example is written in canonical form: same values, and even the same text
    assert json.loads(r.stdout) == json.loads(EXAMPLE_JSON.read_text())
    assert r.stdout == EXAMPLE_JSON.read_bytes()
    # and DER -> JSON -> DER gives the same bytes
    again, der = compile_json(tmp_path, r.stdout.decode())
    assert again.returncode == 0, again.stderr
    assert der.read_bytes() == EXAMPLE_DER.read_bytes()


def test_show_writes_a_file_with_o(tmp_path):
    out = tmp_path / "shown.json"
    r = cwctl("topology", "show", EXAMPLE_DER, "-o", out)
    assert r.returncode == 0 and r.stdout == b""
    assert out.read_bytes() == EXAMPLE_JSON.read_bytes()


def test_derive_prints_what_the_device_derives():
    r = cwctl("topology", "derive", EXAMPLE_DER)
    assert r.returncode == 0, r.stderr
    sets = {s["name"]: s for s in json.loads(r.stdout)["sets"]}
    tail = ",OU=Unified Communications,O=Contoso Ltd,L=Redmond,ST=Washington,C=US"
    assert sets["default"]["subject"] == "CN=edge01.contoso.com" + tail
    assert sets["default"]["san"] == [
        "DNS:edge01.contoso.com", "DNS:redmond-pool.contoso.com",
        "DNS:lyncdiscoverinternal.contoso.com", "DNS:lyncdiscoverinternal.fabrikam.com",
        "IP:10.0.2.15"]
    assert sets["default"]["roles"] == ["Default", "WebServicesInternal"]
    assert (sets["default"]["protocol"], sets["default"]["keyType"]) == ("scep", "rsa2048")
    assert sets["external"]["subject"] == "CN=sip.contoso.com" + tail
    assert sets["external"]["san"] == [
        "DNS:sip.contoso.com", "DNS:sip.fabrikam.com", "DNS:webconf.contoso.com",
        "DNS:webconf.fabrikam.com", "DNS:lyncdiscover.contoso.com", "DNS:lyncdiscover.fabrikam.com"]
    assert (sets["external"]["renewPercent"], sets["external"]["pollSeconds"]) == (70, 300)
    assert sets["oauth"]["subject"] == "CN=contoso.com" + tail
    assert sets["oauth"]["san"] == ["DNS:contoso.com", "DNS:fabrikam.com"]
    assert sets["oauth"]["keyType"] == "ecP256"
    assert sets["oauth"]["eku"] == ["serverAuth"]
    # four roles in three sets
    assert sum(len(s["roles"]) for s in sets.values()) == 4
    # derive also takes the JSON directly, with the same result
    assert cwctl("topology", "derive", EXAMPLE_JSON).stdout == r.stdout


# ---- round trips ------------------------------------------------------------------------------

@pytest.mark.parametrize("doc", [MINIMAL, FEATURES, limits_doc()], ids=["minimal", "features", "limits"])
def test_round_trip_is_exact(tmp_path, doc):
    r, der = compile_json(tmp_path, doc)
    assert r.returncode == 0, r.stderr
    asn1parse(der)
    shown = cwctl("topology", "show", der)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == doc
    r2, der2 = compile_json(tmp_path, shown.stdout.decode(), name="again")
    assert r2.returncode == 0, r2.stderr
    assert der2.read_bytes() == der.read_bytes()


def test_equivalent_spellings_compile_to_the_same_blob(tmp_path):
    """Key order, whitespace, eku order, hex case and colons, IPv6 spelling do not matter; show
    prints the canonical form."""
    doc = json.loads(json.dumps(FEATURES))
    doc["caProfiles"][1]["caFingerprint"] = "0011223344556677" * 4
    doc["appliance"]["addresses"][1] = "2001:0DB8:0:0:0:0:0:7"
    doc["sets"][1]["eku"] = ["clientAuth", "serverAuth"]
    shuffled = json.dumps({k: doc[k] for k in reversed(list(doc))}, separators=(",", ":"),
                          ensure_ascii=True)
    r1, der1 = compile_json(tmp_path, FEATURES, name="canonical")
    r2, der2 = compile_json(tmp_path, shuffled, name="variant")
    assert r1.returncode == 0 and r2.returncode == 0, r2.stderr
    assert der1.read_bytes() == der2.read_bytes()
    assert json.loads(cwctl("topology", "show", der2).stdout) == FEATURES


def test_byte_order_mark_is_skipped(tmp_path):
    src = tmp_path / "bom.json"
    src.write_bytes(b"\xef\xbb\xbf" + EXAMPLE_JSON.read_bytes())
    r = cwctl("topology", "compile", src, "-o", "-")
    assert r.returncode == 0, r.stderr
    assert r.stdout == EXAMPLE_DER.read_bytes()


def test_compile_to_standard_output():
    r = cwctl("topology", "compile", EXAMPLE_JSON, "-o", "-")
    assert r.returncode == 0
    assert r.stdout == EXAMPLE_DER.read_bytes()


# ---- errors name file, line, column and field -------------------------------------------------

def line_col(text, index):
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def test_syntax_error_has_line_and_column(tmp_path):
    text = EXAMPLE_JSON.read_text().replace('"redmond",', '"redmond"', 1)
    src = tmp_path / "site.json"
    src.write_text(text)
    out = tmp_path / "site.der"
    r = cwctl("topology", "compile", src, "-o", out)
    assert r.returncode == 1
    err = r.stderr.decode()
    # jansson stops at the next token: "addresses" on the following line
    line, col = line_col(text, text.index('"addresses"'))
    assert err.startswith(f"{src}:{line}:"), err
    assert "JSON syntax" in err
    assert not out.exists()


# (what to replace, its replacement, the text whose start (or its "|") the error points at, path,
#  message part)
SEMANTIC = [
    ('"lyncdiscover.{domain}"', '"lyncdiscover.{domian}"', '"lyncdiscover.{domian}"',
     "sets[1].san[2].dns", "TOPO_PLACEHOLDER"),
    ('"renewPercent": 70', '"renewPercent": 100', '"renewPercent": |100', "caProfiles[1].renewPercent",
     "TOPO_RENEW_PERCENT"),
    ('"caProfile": "public-offline",\n      "eku": [\n        "serverAuth"\n      ]',
     '"caProfile": "public-ofline",\n      "eku": [\n        "serverAuth"\n      ]',
     '"public-ofline"', "sets[2].caProfile", "TOPO_UNKNOWN_PROFILE"),
    ('"host": "edge01.contoso.com"', '"host": "edge01"', '"edge01"', "appliance.host",
     "TOPO_HOST"),
    ('"roles": [\n        "OAuthTokenIssuer"', '"roles": [\n        "Default"',
     '"roles": [\n        |"Default"\n      ]', "sets[2].roles[0]", "TOPO_ROLE_TWO_SETS"),
    ('"cn": "{host}",', '"cn": "{host}",\n      "keyType": "ecP256",', '"ecP256",\n      "san"',
     "sets[0].keyType", "TOPO_KEY_PROTOCOL"),
    ('"caFingerprint": "CB:3C:', '"caFingerprint": "3C:', '"3C:', "caProfiles[1].caFingerprint",
     "TOPO_FINGERPRINT"),
    ('"country": "US"', '"country": "USA"', '"USA"', "subject.country", "TOPO_COUNTRY"),
    ('"pollSeconds": 300', '"pollSeconds": 5', '"pollSeconds": |5', "caProfiles[0].pollSeconds",
     "TOPO_POLL_INTERVAL"),
    ('"{site}-pool.contoso.com"', '"{site}_pool.contoso.com"', '"{site}_pool.contoso.com"',
     "sets[0].san[1].dns", "TOPO_SAN"),
    ('"keyType": "ecP256",', '"keyType": "ecP256",\n      "tokenUri": "pkcs11:token=x?pin-value=1",',
     '"pkcs11:token=x?pin-value=1"', "sets[2].tokenUri", "TOPO_TOKEN_URI"),
    # shape errors found by cwctl itself, before the decoder runs
    ('"protocol": "scep"', '"protocol": "scpe"', '"scpe"', "caProfiles[0].protocol",
     'unknown value "scpe" (expected offline, scep or acme)'),
    ('"renewPercent": 80', '"renewPercent": "80"', '"80"', "caProfiles[0].renewPercent",
     "expected an integer, found a string"),
    ('"name": "oauth",', '"name": "oauth",\n      "colour": "blue",', '"blue"',
     "sets[2].colour", 'unknown field "colour"'),
    ('"ip": "10.0.2.15"', '"ip": "10.0.2.315"', '"10.0.2.315"', "sets[0].san[3].ip",
     '"10.0.2.315" is not an IPv4 or IPv6 address'),
    ('"ip": "10.0.2.15"', '"ip": "10.0.2.15", "dns": "x.example"',
     '{\n          "ip": "10.0.2.15", "dns"', "sets[0].san[3]",
     'expected {"dns": template} or {"ip": address}, found an object of several fields'),
    ('"eku": [\n        "serverAuth"\n      ]', '"eku": [\n        "serverAuth", "codeSigning"\n      ]',
     '"codeSigning"', "sets[2].eku[1]", 'expected "serverAuth" or "clientAuth"'),
]


@pytest.mark.parametrize("old,new,at,path,message", SEMANTIC, ids=[c[3] for c in SEMANTIC])
def test_semantic_error_names_line_column_and_field(tmp_path, old, new, at, path, message):
    original = EXAMPLE_JSON.read_text()
    assert original.count(old) == 1, old
    text = original.replace(old, new)
    src = tmp_path / "site.json"
    src.write_text(text)
    out = tmp_path / "site.der"
    out.write_bytes(b"previous blob")
    r = cwctl("topology", "compile", src, "-o", out)
    assert r.returncode == 1, r.stderr
    line, col = line_col(text, text.index(at.replace("|", "")) + max(at.find("|"), 0))
    err = r.stderr.decode()
    assert err.startswith(f"{src}:{line}:{col}: {path}: "), err
    assert message in err
    assert err.count("\n") == 1
    assert out.read_bytes() == b"previous blob"  # a failed compile leaves the output alone


def test_missing_field_points_at_its_object(tmp_path):
    text = EXAMPLE_JSON.read_text().replace('"caProfile": "lab-scep",\n', "", 1)
    src = tmp_path / "site.json"
    src.write_text(text)
    r = cwctl("topology", "compile", src, "-o", tmp_path / "x.der")
    assert r.returncode == 1
    line, col = line_col(text, text.index('{\n      "name": "default"'))
    assert r.stderr.decode().startswith(f'{src}:{line}:{col}: sets[0]: missing field "caProfile"')


def test_url_missing_points_at_the_profile(tmp_path):
    text = EXAMPLE_JSON.read_text().replace('"url": "http://10.0.2.2:8080/scep",\n', "", 1)
    src = tmp_path / "site.json"
    src.write_text(text)
    r = cwctl("topology", "compile", src, "-o", tmp_path / "x.der")
    line, col = line_col(text, text.index('{\n      "name": "lab-scep"'))
    assert r.returncode == 1
    assert r.stderr.decode().startswith(f"{src}:{line}:{col}: caProfiles[0].url: TOPO_URL_MISSING")


def test_duplicate_key_is_a_syntax_error(tmp_path):
    text = EXAMPLE_JSON.read_text().replace('"site": "redmond",', '"site": "redmond",\n    "site": "x",')
    src = tmp_path / "site.json"
    src.write_text(text)
    r = cwctl("topology", "compile", src, "-o", tmp_path / "x.der")
    assert r.returncode == 1
    assert "duplicate object key" in r.stderr.decode()
    assert r.stderr.decode().startswith(f"{src}:")


def test_columns_count_characters_not_bytes(tmp_path):
    doc = json.loads(json.dumps(MINIMAL))
    doc["appliance"]["site"] = "Zürich"
    doc["appliance"]["host"] = "bad_host.example"
    text = '{"appliance": {"site": "Zürich", "host": "bad_host.example"}, ' + \
        json.dumps({k: v for k, v in doc.items() if k != "appliance"}, ensure_ascii=False)[1:]
    src = tmp_path / "site.json"
    src.write_text(text, encoding="utf-8")
    r = cwctl("topology", "compile", src, "-o", tmp_path / "x.der")
    col = text.index('"bad_host') + 1  # in characters; the ü is two bytes
    assert r.returncode == 1
    assert r.stderr.decode().startswith(f"{src}:1:{col}: appliance.host: TOPO_HOST"), r.stderr


# Long or odd values: the error line keeps file, line, column, field and reason, and quotes the
# value shortened (with "...") and on one line. (where in the example, the value, the field path as
# printed, the reason, how the line ends)
def _set(path, value):
    def edit(doc):
        *parents, last = path
        for k in parents:
            doc = doc[k]
        doc[last] = value
    return edit


def _add_key(path, key, value):
    def edit(doc):
        for k in path:
            doc = doc[k]
        doc[key] = value
    return edit


LONG_VALUES = [
    ("set-name", _set(["sets", 0, "name"], "s" * 700), "s" * 700, "sets[0].name",
     "TOPO_NAME_TOO_LONG: ", ", 700 bytes)"),
    ("role-name", _set(["sets", 0, "roles", 0], "R" * 700), "R" * 700, "sets[0].roles[0]",
     "TOPO_NAME_TOO_LONG: ", ", 700 bytes)"),
    ("utf8-set-name", _set(["sets", 0, "name"], "ü" * 400), "ü" * 400, "sets[0].name",
     "TOPO_NAME_TOO_LONG: ", ", 800 bytes)"),
    ("host", _set(["appliance", "host"], "h" * 300 + ".example"), "h" * 300 + ".example",
     "appliance.host", "TOPO_HOST: ", '.example", 308 bytes)'),
    ("dns", _set(["sets", 0, "san", 1], {"dns": "w" * 200 + "_x.{domain}"}), "w" * 200 + "_x.{domain}",
     "sets[0].san[1].dns", "TOPO_SAN: ", '_x.{domain}", 211 bytes)'),
    ("protocol", _set(["caProfiles", 0, "protocol"], "x" * 700), "x" * 700, "caProfiles[0].protocol",
     "unknown value ", "(expected offline, scep or acme)"),
    ("ip", _set(["sets", 0, "san", 3], {"ip": "1" * 700}), "1" * 700, "sets[0].san[3].ip",
     "is not an IPv4 or IPv6 address", "is not an IPv4 or IPv6 address"),
    ("fingerprint", _set(["caProfiles", 1, "caFingerprint"], "Z" * 700), "Z" * 700,
     "caProfiles[1].caFingerprint", "is not hex bytes", '("AB:CD:..." or "abcd...")'),
    ("unknown-key", _add_key(["sets", 0], "k" * 400, "the value of a long key"),
     "the value of a long key", "sets[0].kkkk", 'unknown field "kkkk', '..."'),
    ("line-end-in-value", _set(["appliance", "host"], "edge01\nexample.com"), "edge01\nexample.com",
     "appliance.host", "TOPO_HOST: ", '(value "edge01\\nexample.com")'),
]


@pytest.mark.parametrize("edit,value,path,reason,end", [c[1:] for c in LONG_VALUES],
                         ids=[c[0] for c in LONG_VALUES])
def test_long_value_keeps_the_reason_on_one_line(tmp_path, edit, value, path, reason, end):
    doc = json.loads(EXAMPLE_JSON.read_text())
    edit(doc)
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    r, der = compile_json(tmp_path, text)
    assert r.returncode == 1, r.stderr
    err = r.stderr.decode()  # whole characters: a cut inside a UTF-8 sequence fails here
    line, col = line_col(text, text.index(json.dumps(value, ensure_ascii=False)))
    assert err.startswith(f"{tmp_path / 'site.json'}:{line}:{col}: {path}"), err
    assert err.count("\n") == 1 and err.endswith(end + "\n"), err
    assert reason in err, err
    long = "k" * 400 if "kkkk" in path else value
    if len(long.encode()) > 100:
        # shortened: its start is shown, "..." stands for the rest, the line stays readable
        assert long[:16] in err and long not in err and "..." in err, err
        assert len(err) < 400, err
    assert not der.exists()


# ---- blobs cwctl did not make -----------------------------------------------------------------

def test_show_refuses_bad_blobs_naming_the_rule(tmp_path):
    der = EXAMPLE_DER.read_bytes()
    cut = tmp_path / "cut.der"
    cut.write_bytes(der[:-1])
    r = cwctl("topology", "show", cut)
    assert r.returncode == 1
    assert r.stderr.decode() == f"{cut}: TRUNCATED: The input ends before the structure it announces is complete.\n"
    assert r.stdout == b""
    extra = tmp_path / "extra.der"
    extra.write_bytes(der + b"\0")
    r = cwctl("topology", "show", extra)
    assert r.returncode == 1
    assert r.stderr.decode().startswith(f"{extra}: TOPO_TRAILING: ")
    v2 = tmp_path / "v2.der"
    v2.write_bytes(der[:6] + b"\x02" + der[7:])  # version INTEGER 1 -> 2
    r = cwctl("topology", "show", v2)
    assert r.returncode == 1
    assert r.stderr.decode().startswith(f"{v2}: version: TOPO_VERSION: ")
    empty = tmp_path / "empty.der"
    empty.write_bytes(b"")
    assert cwctl("topology", "show", empty).returncode == 1


# ---- usage ------------------------------------------------------------------------------------

def test_usage_errors_and_help(tmp_path):
    assert cwctl("topology").returncode == 2
    assert cwctl("topology", "frobnicate", EXAMPLE_JSON).returncode == 2
    r = cwctl("topology", "compile", EXAMPLE_JSON)
    assert r.returncode == 2 and b"-o" in r.stderr
    r = cwctl("topology", "show", tmp_path / "missing.der")
    assert r.returncode == 2 and b"missing.der" in r.stderr
    assert cwctl("topology", "show", EXAMPLE_DER, "--bogus").returncode == 2
    h = cwctl("topology", "--help")
    assert h.returncode == 0
    for word in (b"compile", b"show", b"derive", b"docs/topology.md"):
        assert word in h.stdout
    assert b"topology" in cwctl("--help").stdout
    r = cwctl("topology", "load", EXAMPLE_DER)
    assert r.returncode == 2 and b"--port" in r.stderr


def test_with_port_topology_goes_to_the_device():
    """cwctl options may follow the words: `topology show --port X` is the device's command."""
    r = cwctl("topology", "show", "--port", "/dev/does-not-exist")
    assert r.returncode == 2
    assert b"/dev/does-not-exist" in r.stderr  # cwctl tried to open the port


def test_every_blob_cwctl_makes_parses_in_openssl(tmp_path):
    """Beyond the fixed documents above: a spread of generated topologies."""
    for i in range(1, 9):
        doc = limits_doc()
        doc["sets"] = doc["sets"][:i]
        doc["domains"] = doc["domains"][:i]
        doc["caProfiles"][0]["protocol"] = ["offline", "scep", "acme"][i % 3]
        if i % 3:
            doc["caProfiles"][0]["url"] = f"http://10.0.2.2:{8000 + i}/scep"
        r, der = compile_json(tmp_path, doc, name=f"gen{i}")
        assert r.returncode == 0, r.stderr
        asn1parse(der)
        assert json.loads(cwctl("topology", "show", der).stdout) == doc


# ---- the ASN.1 module describes the bytes -----------------------------------------------------

ASN1C = shutil.which("asn1c")


@pytest.mark.skipif(ASN1C is None, reason="asn1c (Debian package asn1c) is not installed")
def test_asn1c_decodes_every_blob_with_the_module(tmp_path):
    """An independent compiler of docs/topology.asn1 decodes the blobs with constraint checks,
    and its DER re-encoding is byte for byte what cwctl wrote."""
    gen = tmp_path / "asn1c"
    gen.mkdir()
    r = subprocess.run([ASN1C, "-fcompound-names", "-pdu=Topology", str(ROOT / "docs/topology.asn1")],
                       cwd=gen, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["make", "-f", "Makefile.am.sample", "-j4",
                        "CFLAGS=-DPDU=Topology -I. -w -O0"],
                       cwd=gen, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    blobs = [EXAMPLE_DER]
    for i, doc in enumerate([MINIMAL, FEATURES, limits_doc()]):
        c, der = compile_json(tmp_path, doc, name=f"doc{i}")
        assert c.returncode == 0, c.stderr
        blobs.append(der)
    for der in blobs:
        r = subprocess.run([str(gen / "progname"), "-c", "-1", "-oder", str(der)],
                           capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert r.stdout == der.read_bytes(), der
