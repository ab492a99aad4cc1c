"""One view of the fleet: loftadm -H / --fleet asks other hosts' HTTP
APIs. Two real loftd instances on 127.0.0.2 and 127.0.0.3, each with its
HTTP API on, take mail through real LMTP; loftadm, with a fleet { } of
both plus a host that is down and one that accepts and never answers,
answers who (with an LMTP session held open), deliveries --msgid, service
status and kick for the whole fleet with a host column; the dead hosts
get an error line each and exit 75 while the others still answer, within
fleet_timeout; a wrong key is refused (77)."""
import contextlib
import http.server
import json
import os
import re
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import SAMPLE, Instance, binary, free_port, needs_root, wait_for
from test_fleet import greets
from test_stats import KEY, StatsDaemon

pytestmark = needs_root

HOSTS = {"mx-a": "127.0.0.2", "mx-b": "127.0.0.3"}


@pytest.fixture(scope="module")
def fleet():
    roots, daemons = [], {}
    # a host that accepts connections and never answers: fleet_timeout
    silent = socket.socket()
    silent.bind(("127.0.0.5", 0))
    silent.listen(8)
    down = f"127.0.0.4:{free_port()}"
    try:
        for name, addr in HOSTS.items():
            root = tempfile.mkdtemp(prefix="loft-fleetview-")
            os.chmod(root, 0o755)
            roots.append(root)
            inst = Instance(root)
            inst.add_user("user0@example.com")
            inst.add_user("user1@example.com")
            inst.write_conf()
            d = StatsDaemon(inst)
            with open(inst.conf) as f:
                text = f.read()
            with open(inst.conf, "w") as f:
                f.write(text.replace("address = 127.0.0.1", f"address = {addr}"))
            d.addr = addr
            daemons[name] = d
        urls = {name: f"http://{d.addr}:{d.http_port}" for name, d in daemons.items()}
        urls["down"] = f"http://{down}"
        urls["silent"] = "{}:{}".format(*silent.getsockname())
        fleet_section = "fleet {\n" + "".join(
            f"  {n} = {u}\n" for n, u in urls.items()) + "}\nfleet_timeout = 1s\n"
        # loftd itself reads a config with a fleet { } (mx-a's)
        with open(daemons["mx-a"].inst.conf, "a") as f:
            f.write(fleet_section)
        for d in daemons.values():
            d.proc = subprocess.Popen([binary("loftd"), "-c", d.inst.conf, "-F"],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for d in daemons.values():
            assert wait_for(lambda: greets(d.addr, d.port)), d.inst.log("loft.log")
            assert wait_for(lambda: http_up(d)), d.inst.log("loft.log")
        yield daemons, urls
    finally:
        silent.close()
        for d in daemons.values():
            d.stop()
        for r in roots:
            shutil.rmtree(r, ignore_errors=True)


def http_up(d):
    try:
        with socket.create_connection((d.addr, d.http_port), timeout=1):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def not_loft():
    """http://127.0.0.6:PORT: a web server answering 200 with HTML"""
    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<html>it works</html>"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    server = http.server.HTTPServer(("127.0.0.6", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.6:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def loftadm(d, *args, env_key=None, timeout=30):
    env = dict(os.environ)
    env.pop("LOFT_HTTP_API_KEY", None)
    if env_key is not None:
        env["LOFT_HTTP_API_KEY"] = env_key
    return subprocess.run([binary("loftadm"), "-c", d.inst.conf, *args],
                          capture_output=True, text=True, env=env, timeout=timeout)


def deliver(d, rcpt, msgid):
    msg = SAMPLE.replace(b"<m1@example.org>", msgid.encode())
    with smtplib.LMTP(d.addr, d.port) as lmtp:
        assert lmtp.sendmail("sender@example.org", [rcpt], msg) == {}


def rows(stdout):
    lines = stdout.splitlines()
    header = lines[0].split()
    return header, [line.split() for line in lines[1:]]


def test_fleet_who_deliveries_status_kick(fleet):
    daemons, urls = fleet
    a, b = daemons["mx-a"], daemons["mx-b"]
    deliver(a, "user0@example.com", "<fleet-a@example.org>")
    deliver(b, "user1@example.com", "<fleet-b@example.org>")

    # deliveries --msgid: found on b only, with the host column (once
    # loft-stats has the record: reporters batch their events)
    assert wait_for(lambda: "fleet-b" in loftadm(
        a, "-H", "mx-b", "deliveries", "--msgid", "<fleet-b@example.org>").stdout)
    r = loftadm(a, "-H", "mx-a,mx-b", "deliveries", "--msgid", "<fleet-b@example.org>")
    assert r.returncode == 0, r.stderr
    header, found = rows(r.stdout)
    assert header[:2] == ["host", "time"]
    assert len(found) == 1 and found[0][0] == "mx-b" and "user1@example.com" in found[0]
    # the other filters travel too: b's saved ones for user1, none on a
    r = loftadm(a, "--fleet", "-f", "json", "deliveries", "--user", "user1*",
                "--result", "saved", "--since", "1h")
    assert r.returncode == 75  # down and silent
    answers = {x["host"]: x for x in json.loads(r.stdout)}
    assert [d["msgid"] for d in answers["mx-b"]["answer"]] == ["<fleet-b@example.org>"]
    assert answers["mx-a"]["answer"] == []
    assert "error" in answers["down"] and "error" in answers["silent"]

    # an LMTP session held open on a, with a recipient
    held = smtplib.LMTP(a.addr, a.port)
    held.docmd("LHLO", "fleet.test")
    held.docmd("MAIL", "FROM:<s@example.org>")
    assert held.docmd("RCPT", "TO:<user0@example.com>")[0] == 250
    try:
        assert wait_for(lambda: "user0@example.com" in
                        loftadm(a, "-H", "mx-a,mx-b", "who").stdout)
        r = loftadm(a, "-H", "mx-a,mx-b", "who")
        assert r.returncode == 0, r.stderr
        header, found = rows(r.stdout)
        assert header[:3] == ["host", "username", "#"]
        assert [x[:2] for x in found] == [["mx-a", "user0@example.com"]]

        # the whole fleet: the dead hosts are error lines, the rest answers,
        # within fleet_timeout (1 s), not one timeout per host
        start = time.monotonic()
        r = loftadm(a, "--fleet", "who", "-1")
        took = time.monotonic() - start
        assert r.returncode == 75
        assert took < 4, took
        header, found = rows(r.stdout)
        assert header[:3] == ["host", "session", "service"]
        assert [x[0] for x in found] == ["mx-a"] and "user0@example.com" in found[0]
        errors = r.stderr.splitlines()
        assert any(e.startswith("loftadm: down: who: connect:") for e in errors), errors
        assert any(e.startswith("loftadm: silent: who: read: no answer") for e in errors), errors

        # nobody answers: no table, an error line each
        r = loftadm(a, "-H", "down,silent", "who")
        assert r.returncode == 75 and r.stdout == "", r.stdout
        assert len(r.stderr.splitlines()) == 2, r.stderr

        # several masks are alternatives, as on the admin socket
        r = loftadm(a, "-H", "mx-a,mx-b", "who", "nobody@example.com", "user0@*")
        assert r.returncode == 0 and "user0@example.com" in r.stdout, r.stderr
        r = loftadm(a, "-H", "mx-a", "who", "nobody@example.com", "10.9.9.0/24")
        assert r.returncode == 0 and "user0" not in r.stdout, r.stdout

        # one host: the local format, no host column
        r = loftadm(a, "-H", urls["mx-a"], "who")
        assert r.returncode == 0 and r.stdout.split()[0] == "username", r.stdout

        # kick goes to every host and reports per host
        r = loftadm(a, "-H", "mx-a,mx-b", "kick", "user0@example.com")
        assert r.returncode == 0, r.stderr
        header, found = rows(r.stdout)
        assert header[:2] == ["host", "session"]
        assert [x[0] for x in found] == ["mx-a"]
        code, _ = held.docmd("NOOP")
        assert code == 421
    finally:
        held.close()
    r = loftadm(a, "-H", "mx-a,mx-b", "kick", "user0@example.com")
    assert r.returncode == 0 and "no sessions matched" in r.stdout

    # service status of both, a host column first
    r = loftadm(b, "-H", f"{urls['mx-a']},{urls['mx-b']}", "service", "status")
    assert r.returncode == 0, r.stderr
    header, found = rows(r.stdout)
    assert header[:3] == ["host", "name", "processes"]
    hosts = {x[0] for x in found}
    assert hosts == {urls["mx-a"], urls["mx-b"]}
    assert {x[1] for x in found} >= {"lmtp", "stats"}
    r = loftadm(a, "-H", "mx-a,mx-b", "-f", "tab", "service", "status")
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and lines[0].startswith("host\tname\t"), r.stdout
    assert {line.split("\t")[0] for line in lines[1:]} == {"mx-a", "mx-b"}


def test_fleet_wrong_key_and_usage(fleet):
    daemons, urls = fleet
    a = daemons["mx-a"]
    r = loftadm(a, "-H", "mx-a,mx-b", "who", env_key="wrong-key")
    assert r.returncode == 77
    assert "mx-a: who: HTTP 401" in r.stderr and "mx-b: who: HTTP 401" in r.stderr
    # the right key from the environment works without http_api_key
    r = loftadm(a, "-H", "mx-b", "service", "status", env_key=KEY)
    assert r.returncode == 0, r.stderr
    # something that is not loft: its answer is refused, the others printed
    with not_loft() as url:
        r = loftadm(a, "-H", f"mx-a,{url}/", "service", "status")
        assert r.returncode == 75
        assert f"loftadm: {url}/: service status: the answer is not JSON" in r.stderr
        assert rows(r.stdout)[1][0][0] == "mx-a"
        r = loftadm(a, "-H", f"{url}", "who", "-1")
        assert r.returncode == 75 and r.stdout == ""
    # no config at all: URLs and the key from the environment
    r = subprocess.run([binary("loftadm"), "-c", "/nonexistent/loft.conf", "-H",
                        urls["mx-a"] + "," + urls["mx-b"], "stats", "dump"],
                       capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, LOFT_HTTP_API_KEY=KEY))
    assert r.returncode == 0, r.stderr
    header, found = rows(r.stdout)
    assert header[:2] == ["host", "name"]
    assert {x[0] for x in found if x[1] == "loft_deliveries_total"} == \
        {urls["mx-a"], urls["mx-b"]}
    # the refused key above is a warning on both hosts (loft-stats adds
    # its own warnings to the recent errors within 200 ms)

    def warned():
        r = loftadm(a, "-H", "mx-a,mx-b", "-f", "flow", "log", "errors", "--since", "1h")
        assert r.returncode == 0, r.stderr
        assert all(line.startswith("host=mx-") for line in r.stdout.splitlines())
        return {line.split()[0] for line in r.stdout.splitlines()
                if "authentication failed" in line} == {"host=mx-a", "host=mx-b"}
    assert wait_for(warned)
    # commands that work on this host only, and unknown hosts
    r = loftadm(a, "-H", "mx-a", "user", "user0@example.com")
    assert r.returncode == 64 and "not available with -H" in r.stderr
    r = loftadm(a, "-H", "nosuchhost", "who")
    assert r.returncode == 75 and "loftadm: nosuchhost: who: nosuchhost:" in r.stderr
    r = loftadm(a, "-H", "https://mx.example", "who")
    assert r.returncode == 64 and "https is not supported" in r.stderr
    # loftd -a prints the fleet back
    out = subprocess.run([binary("loftd"), "-c", a.inst.conf, "-n"],
                         capture_output=True, text=True).stdout
    assert f"  mx-b = {urls['mx-b']}" in out and re.search(r"^fleet_timeout = 1 ?s", out, re.M)
