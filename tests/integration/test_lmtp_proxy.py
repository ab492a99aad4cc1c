"""lmtp_proxy = yes: a loft in front of two loft backends routes each
recipient by its userdb's proxy/host/port fields. One transaction with
recipients on both is answered per recipient with the backends' own
replies; a backend that is down, dies during DATA or answers garbage costs
only its own recipients a 451; backend connections are reused."""
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
import urllib.parse

import pytest

from conftest import NOBODY, SAMPLE, Daemon, Instance, binary, needs_root, wait_for

pytestmark = needs_root


@pytest.fixture
def fleet():
    roots = []

    def instance(users):
        root = tempfile.mkdtemp(prefix="loft-proxy-")
        os.chmod(root, 0o755)
        roots.append(root)
        inst = Instance(root)
        for u in users:
            inst.add_user(u)
        inst.write_conf()
        return inst

    daemons = []

    def start(inst, extra="", service_extra=""):
        d = Daemon(inst, extra=extra, service_extra=service_extra)
        d.start()
        daemons.append(d)
        return d

    yield instance, start
    for d in daemons:
        d.stop()
    for r in roots:
        shutil.rmtree(r, ignore_errors=True)


def proxy_users(inst, routes):
    """passwd-file lines routing each user to (host, port)"""
    inst.users = [f"{u}:::::::userdb_proxy=y userdb_host={h} userdb_port={p}"
                  for u, (h, p) in routes.items()]
    inst.write_passwd()


def unused_port():
    """a port on 127.0.0.1 nothing listens on"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def transaction(port, rcpts):
    """{rcpt: (code, text)} at RCPT (refused) or after DATA"""
    c = smtplib.LMTP("127.0.0.1", port, timeout=60)
    try:
        c.ehlo("proxytest")
        c.mail("sender@example.org")
        got, accepted = {}, []
        for r in rcpts:
            code, text = c.rcpt(r)
            if code == 250:
                accepted.append(r)
            else:
                got[r] = (code, text.decode())
        if accepted:
            c.putcmd("data")
            code, _ = c.getreply()
            assert code == 354
            c.send(SAMPLE.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b".\r\n")
            for r in accepted:
                code, text = c.getreply()
                got[r] = (code, text.decode())
        c.quit()
    finally:
        c.close()
    return got


def test_routes_each_recipient_to_its_backend(fleet):
    instance, start = fleet
    a_inst = instance(["alice@example.com"])
    b_inst = instance(["bob@example.com"])
    a, b = start(a_inst), start(b_inst)
    p_inst = instance([])
    proxy_users(p_inst, {"alice@example.com": ("127.0.0.1", a.port),
                         "bob@example.com": ("127.0.0.1", b.port),
                         "carol@example.com": ("127.0.0.1", a.port)})
    # one process: its pool of backend connections serves every session
    p = start(p_inst, extra="lmtp_proxy = yes\n", service_extra="process_limit = 1")

    def connects():
        return [l for l in a_inst.log().splitlines() if "Connect from" in l]
    probes = len(connects())  # Daemon.start's readiness check
    got = transaction(p.port, ["alice@example.com", "bob@example.com",
                               "carol@example.com", "dave@example.com"])
    # carol is routed to a, which does not know her: a's own refusal
    assert got["carol@example.com"][0] == 550, got
    assert "5.1.1" in got["carol@example.com"][1]
    # dave is unknown to the proxy itself
    assert got["dave@example.com"][0] == 550
    # alice and bob: their backends' replies, with the backends' ids
    for user in ("alice@example.com", "bob@example.com"):
        code, text = got[user]
        assert code == 250 and f"<{user}>" in text and "Saved" in text, got
    assert len(a_inst.new_files("alice@example.com")) == 1
    assert len(b_inst.new_files("bob@example.com")) == 1
    assert not os.path.exists(a_inst.home("bob@example.com"))
    # the relayed message carries the proxy's Received: line
    path = os.path.join(a_inst.maildir("alice@example.com"), "new",
                        a_inst.new_files("alice@example.com")[0])
    with open(path, "rb") as f:
        body = f.read()
    assert b"by testhost with LMTP" in body and b"Subject: hello" in body

    # a second transaction reuses the connections: each backend logged
    # one connection from the proxy for both
    got = transaction(p.port, ["alice@example.com", "bob@example.com"])
    assert all(v[0] == 250 for v in got.values()), got
    assert len(a_inst.new_files("alice@example.com")) == 2
    assert len(connects()) == probes + 1, connects()
    # the proxy's journal / log names the relayed outcome
    assert "alice@example.com" in p_inst.log()


def live_and_dead(instance, start):
    """alice on a running backend, bob on a port nothing listens on, and
    the proxy's instance routing both: (alice's instance, her backend, the
    dead port, the proxy's instance)"""
    a_inst = instance(["alice@example.com"])
    a = start(a_inst)
    dead_port = unused_port()
    p_inst = instance([])
    proxy_users(p_inst, {"alice@example.com": ("127.0.0.1", a.port),
                         "bob@example.com": ("127.0.0.1", dead_port)})
    return a_inst, a, dead_port, p_inst


def test_backend_down_costs_only_its_recipients(fleet):
    a_inst, a, dead_port, p_inst = live_and_dead(*fleet)
    start = fleet[1]
    p = start(p_inst, extra="lmtp_proxy = yes\n")
    got = transaction(p.port, ["alice@example.com", "bob@example.com"])
    assert got["alice@example.com"][0] == 250
    assert got["bob@example.com"][0] == 451, got
    assert "4.4.0" in got["bob@example.com"][1]
    assert len(a_inst.new_files("alice@example.com")) == 1


class FakeBackend:
    """An LMTP server that accepts RCPT and then misbehaves at DATA:
    'close' drops the connection after the message, 'garbage' answers
    with bytes that are no reply, 'slow' takes SLOW seconds to answer
    each recipient, 'trickle' sends its reply a byte every TRICKLE
    seconds, never ending it (each read gets something), 'slowread' takes
    the message in 4 KB every TRICKLE seconds (each write gets through)"""
    SLOW = 1.0
    TRICKLE = 0.2

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        if mode == "slowread":
            # small buffers: the proxy's writes wait for its reads
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        f = conn.makefile("rwb")
        f.write(b"220 fake LMTP\r\n")
        f.flush()
        rcpts = 0
        for line in f:
            verb = line[:4].upper()
            if verb == b"LHLO":
                f.write(b"250-fake\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                f.write(b"354 go\r\n")
                f.flush()
                if self.mode == "slowread":
                    try:
                        while conn.recv(4096):
                            time.sleep(self.TRICKLE)
                    except OSError:
                        pass
                    conn.close()
                    return
                for body in f:
                    if body == b".\r\n":
                        break
                if self.mode == "close":
                    conn.close()
                    return
                if self.mode == "slow":
                    time.sleep(self.SLOW)
                    f.write(b"250 2.0.0 OK slowly\r\n" * rcpts)
                elif self.mode == "trickle":
                    try:
                        self.trickle(f)
                    except OSError:
                        pass
                    conn.close()
                    return
                else:
                    f.write(b"\x00\x01garbage\r\n")
                rcpts = 0
            else:
                rcpts += verb == b"RCPT"
                f.write(b"250 2.1.0 OK\r\n")
            f.flush()
        conn.close()

    def trickle(self, f):
        f.write(b"250 2.0.0 ")
        while True:
            f.flush()
            time.sleep(self.TRICKLE)
            f.write(b"x")

    def close(self):
        self.sock.close()


@pytest.mark.parametrize("mode", ["close", "garbage"])
def test_backend_failing_at_data(fleet, mode):
    instance, start = fleet
    a_inst = instance(["alice@example.com"])
    a = start(a_inst)
    fake = FakeBackend(mode)
    try:
        p_inst = instance([])
        proxy_users(p_inst, {"alice@example.com": ("127.0.0.1", a.port),
                             "bob@example.com": ("127.0.0.1", fake.port),
                             "bert@example.com": ("127.0.0.1", fake.port)})
        p = start(p_inst, extra="lmtp_proxy = yes\n")
        got = transaction(p.port, ["bob@example.com", "alice@example.com",
                                   "bert@example.com"])
        assert got["alice@example.com"][0] == 250
        assert got["bob@example.com"][0] == 451, got
        assert got["bert@example.com"][0] == 451, got
        assert len(a_inst.new_files("alice@example.com")) == 1
        assert wait_for(lambda: "proxy: 127.0.0.1:%d" % fake.port in p_inst.log("loft.log"))
    finally:
        fake.close()


@pytest.fixture
def slow_fleet(fleet):
    """alice on a loft backend, bob on a FakeBackend of the given mode
    with proxy_timeout=2, and a proxy routing both: (alice's instance,
    the proxy's instance, the proxy)"""
    instance, start = fleet
    fakes = []

    def make(mode):
        a_inst = instance(["alice@example.com"])
        a = start(a_inst)
        fakes.append(FakeBackend(mode))
        p_inst = instance([])
        proxy_users(p_inst, {"alice@example.com": ("127.0.0.1", a.port)})
        p_inst.users.append("bob@example.com:::::::userdb_proxy=y "
                            "userdb_host=127.0.0.1 "
                            f"userdb_port={fakes[-1].port} userdb_proxy_timeout=2")
        p_inst.write_passwd()
        return a_inst, p_inst, start(p_inst, extra="lmtp_proxy = yes\n")
    yield make
    for f in fakes:
        f.close()


def test_trickling_backend_is_cut_at_the_deadline(slow_fleet):
    """proxy_timeout bounds a reply as a whole: a backend that sends its
    reply after the message a byte every 0.2 s, for ever, costs its
    recipient a 451 after proxy_timeout (2 s), not a worker thread for as
    long as it goes on; the other backend's recipient is saved"""
    _, p_inst, p = slow_fleet("trickle")
    began = time.monotonic()
    got = transaction(p.port, ["alice@example.com", "bob@example.com"])
    took = time.monotonic() - began
    assert got["alice@example.com"][0] == 250, got
    assert got["bob@example.com"][0] == 451, got
    assert 2 <= took < 5, took
    assert wait_for(lambda: "timed out waiting for a reply" in
                    p_inst.log("loft.log"))


def test_slow_reader_is_cut_at_the_deadline(slow_fleet):
    """proxy_timeout bounds sending the message as a whole: a backend that
    takes it in 4 KB every 0.2 s (each write gets through) costs its
    recipient a 451 after 2 s; the other backend's recipient is saved"""
    a_inst, p_inst, p = slow_fleet("slowread")
    body = SAMPLE + b"".join(b"%07d " % i + b"x" * 70 + b"\r\n"
                             for i in range(100000))
    c = smtplib.LMTP("127.0.0.1", p.port, timeout=60)
    c.ehlo("proxytest")
    c.mail("sender@example.org")
    assert c.rcpt("bob@example.com")[0] == 250
    assert c.rcpt("alice@example.com")[0] == 250
    began = time.monotonic()
    code, text = c.data(body)
    second = c.getreply()
    took = time.monotonic() - began
    c.quit()
    assert code == 451 and b"4.4.0" in text, (code, text)
    assert second[0] == 250, second
    assert took < 8, took
    assert len(a_inst.new_files("alice@example.com")) == 1
    assert wait_for(lambda: "timed out sending the message" in
                    p_inst.log("loft.log"))


def test_backends_work_side_by_side(fleet):
    """Two backends that each take a second to answer after the message:
    one transaction with recipients on both takes about one second, not
    two (each gets its copy and starts while the next is sent), and the
    replies keep the RCPT order"""
    instance, start = fleet
    slow = [FakeBackend("slow"), FakeBackend("slow")]
    try:
        p_inst = instance([])
        proxy_users(p_inst, {"bob@example.com": ("127.0.0.1", slow[0].port),
                             "bert@example.com": ("127.0.0.1", slow[1].port),
                             "bill@example.com": ("127.0.0.1", slow[0].port)})
        p = start(p_inst, extra="lmtp_proxy = yes\n")
        c = smtplib.LMTP("127.0.0.1", p.port, timeout=60)
        c.ehlo("proxytest")
        c.mail("sender@example.org")
        for r in ("bob@example.com", "bert@example.com", "bill@example.com"):
            assert c.rcpt(r)[0] == 250
        began = time.monotonic()
        code, _ = c.data(SAMPLE)
        replies = [code] + [c.getreply()[0] for _ in range(2)]
        took = time.monotonic() - began
        c.quit()
        assert replies == [250, 250, 250]
        assert FakeBackend.SLOW <= took < 1.8 * FakeBackend.SLOW, took
    finally:
        for f in slow:
            f.close()


def test_backend_metrics_and_journal(fleet):
    """loft_proxy_deliveries_total{backend,result} and
    loft_proxy_backend_up{backend} on the proxy, and its journal entries
    for relayed recipients"""
    from test_loftadm import adm, ok
    from test_stats import KEY, StatsDaemon
    a_inst, a, dead_port, p_inst = live_and_dead(*fleet)
    p = StatsDaemon(p_inst, extra="lmtp_proxy = yes\n")
    p.start()
    try:
        got = transaction(p.port, ["alice@example.com", "bob@example.com"])
        assert got["alice@example.com"][0] == 250 and got["bob@example.com"][0] == 451
        live, down = f"127.0.0.1:{a.port}", f"127.0.0.1:{dead_port}"
        assert wait_for(lambda: p.metric("loft_proxy_deliveries_total",
                                         backend=live, result="saved") == 1)
        assert p.metric("loft_proxy_backend_up", backend=live) == 1
        assert p.metric("loft_proxy_deliveries_total", backend=down,
                        result="tempfail") == 1
        assert p.metric("loft_proxy_backend_up", backend=down) == 0
        journal = p.json("/api/v1/deliveries")
        by_rcpt = {r["rcpt"]: r for r in journal}
        assert by_rcpt["alice@example.com"]["result"] == "saved"
        assert "Saved" in by_rcpt["alice@example.com"]["text"]
        assert by_rcpt["bob@example.com"]["code"] == 451
        # the live backend's answer time; none for the one that gave none
        assert p.metric("loft_proxy_backend_duration_seconds_count", backend=live) == 1
        assert 0 < p.metric("loft_proxy_backend_duration_seconds_sum", backend=live) < 10
        assert p.metric("loft_proxy_backend_duration_seconds_bucket",
                        backend=live, le="+Inf") == 1
        assert p.metric("loft_proxy_backend_duration_seconds_count", backend=down) == 0

        # /healthz: the same data; a backend down is reported, and loft
        # itself stays healthy (200)
        status, _, body = p.get("/healthz", key=None)
        health = json.loads(body)
        assert status == 200 and health["status"] == "ok", body
        backends = {b["backend"]: b for b in health["backends"]}
        assert backends[live]["up"] is True and backends[down]["up"] is False
        assert backends[live]["deliveries"] == {"saved": 1, "rejected": 0, "tempfail": 0}
        assert backends[down]["deliveries"]["tempfail"] == 1

        # loftadm service status: a backends section after the services
        out = ok(adm(p_inst, "service", "status"))
        services, _, section = out.partition("\n\n")
        assert "lmtp" in services
        lines = section.split("\n")
        assert lines[0].split() == ["backend", "up", "deliveries"], out
        assert f"{live} true saved=1,rejected=0,tempfail=0".split() in \
            [line.split() for line in lines], out
        assert any(line.split()[:2] == [down, "false"] for line in lines[1:] if line), out
        doc = json.loads(ok(adm(p_inst, "service", "status", fmt="json")))
        assert {b["backend"] for b in doc["backends"]} == {live, down}
        # and through the HTTP API (loftadm -H; one host: no host column)
        url = p.url("")
        r = subprocess.run([binary("loftadm"), "-c", "/nonexistent/loft.conf",
                            "-H", url, "service", "status"], capture_output=True,
                           text=True, timeout=30,
                           env=dict(os.environ, LOFT_HTTP_API_KEY=KEY))
        assert r.returncode == 0, r.stderr
        section = r.stdout.partition("\n\n")[2].split("\n")
        assert section[0].split() == ["backend", "up", "deliveries"], r.stdout
        assert [live, "true", "saved=1,rejected=0,tempfail=0"] in \
            [line.split() for line in section], r.stdout
    finally:
        p.stop()


def lmtp_from(source, port):
    """an LMTP connection to port from the loopback address source"""
    c = smtplib.LMTP("127.0.0.1", port, timeout=60, source_address=(source, 0))
    c.ehlo("client.example")
    return c


def deliver_one(c, rcpt):
    """one transaction on c: the reply after DATA"""
    c.mail("sender@example.org")
    assert c.rcpt(rcpt)[0] == 250
    code, text = c.data(SAMPLE)
    return code, text.decode()


def test_xclient_traces_one_session_id(fleet):
    """The proxy tells a backend that trusts it (login_trusted_networks)
    the client's address and port, and "<its transaction id>:P1" as the
    session id, before every transaction on a reused connection: the
    proxy's 250, its journal and the backend's journal share that id, and
    the backend's logs, who and Received: line name the original client"""
    from test_stats import StatsDaemon
    instance = fleet[0]
    a_inst = instance(["alice@example.com"])
    a = StatsDaemon(a_inst, extra="login_trusted_networks = 127.0.0.1\n")
    p_inst = instance([])
    proxy_users(p_inst, {"alice@example.com": ("127.0.0.1", a.port)})
    p = StatsDaemon(p_inst, extra="lmtp_proxy = yes\n")
    a.start()
    try:
        p.start()
        c = lmtp_from("127.0.0.7", p.port)
        client_port = c.sock.getsockname()[1]
        replies = [deliver_one(c, "alice@example.com") for _ in range(2)]
        c.quit()
        assert all(code == 250 for code, _ in replies), replies
        # the proxy's transaction ids, from its journal
        assert wait_for(lambda: len(p.json("/api/v1/deliveries")) == 2)
        proxy_ids = sorted(d["session"] for d in p.json("/api/v1/deliveries"))
        first, second = proxy_ids
        assert second == first + ":T2", proxy_ids
        # its 250s carry them, as the backend's own session ids
        assert f" {first}:P1 Saved" in replies[0][1], replies
        assert f" {second}:P1 Saved" in replies[1][1], replies
        assert wait_for(lambda: len(a.json("/api/v1/deliveries")) == 2)
        backend_ids = sorted(d["session"] for d in a.json("/api/v1/deliveries"))
        assert backend_ids == [first + ":P1", second + ":P1"], backend_ids
        # `deliveries --session <proxy's id>` finds them on both hosts
        found = a.json("/api/v1/deliveries?session=" + urllib.parse.quote(first, safe=""))
        assert len(found) == 2
        # the backend logged who the client is and which session it became
        log = a_inst.log()
        assert f"XCLIENT: client 127.0.0.7:{client_port}, session {first}:P1, ttl 5" in log
        assert f"XCLIENT: client 127.0.0.7:{client_port}, session {second}:P1, ttl 5" in log
        # one connection from the proxy served both transactions
        assert log.count("Connect from 127.0.0.1") == 2  # + readiness probe
        # it idles in the proxy's pool: who shows it with the forwarded
        # client, under the connection's own id (the one its Connect line
        # has), and kick finds it by that id
        conn_id = re.search(r"lmtp<\d+><(\S+)>: Info: XCLIENT: ", log).group(1)
        who = a.json("/api/v1/who?per_session=1")
        assert [(w["session"], w["ip"]) for w in who] == [(conn_id, "127.0.0.7")], who
        status, body = a.post("/api/v1/kick", {"session": conn_id})
        assert status == 200 and body["count"] == 1, body
        assert wait_for(lambda: f"<{conn_id}>: Info: Disconnect from 127.0.0.7: "
                        "Kicked by administrator" in a_inst.log())
        path = os.path.join(a_inst.maildir("alice@example.com"), "new",
                            a_inst.new_files("alice@example.com")[0])
        with open(path, "rb") as f:
            head = f.read().split(b"\n\n")[0]
        assert b"Received: from testhost ([127.0.0.7])" in head
        assert f"id {first}:P1".encode() in head
    finally:
        p.stop()
        a.stop()


def test_xclient_only_from_trusted_networks(fleet):
    """XCLIENT is offered and taken only from login_trusted_networks (as
    Dovecot: 550 5.7.14 to anyone else); bad attributes are 501 5.5.4, and
    it is refused inside a transaction"""
    instance, start = fleet
    a_inst = instance(["alice@example.com"])
    a = start(a_inst, extra="login_trusted_networks = 127.0.0.1/32\n")
    c = lmtp_from("127.0.0.9", a.port)
    assert not c.has_extn("xclient")
    assert c.docmd("XCLIENT ADDR=192.0.2.1") == (550, b"5.7.14 You are not from trusted IP")
    c.quit()

    c = lmtp_from("127.0.0.1", a.port)
    assert c.esmtp_features["xclient"] == "ADDR PORT SESSION TTL"
    for bad, what in (("ADDR=999.1.1.1", "ADDR"), ("PORT=0", "PORT"),
                      ("TTL=-1", "TTL"), ("SESSION=a+20b", "SESSION"),
                      ("SESSION=" + "x" * 64, "SESSION"), ("ADDR", None), ("", None)):
        code, text = c.docmd("XCLIENT " + bad)
        assert code == 501 and text.startswith(b"5.5.4"), (bad, code, text)
        if what:
            assert f"Invalid {what} parameter".encode() in text
    c.mail("sender@example.org")
    assert c.docmd("XCLIENT ADDR=192.0.2.1")[0] == 503
    c.rset()
    # unknown attributes (PROTO, HELO, ...) are skipped, as Dovecot does
    code, text = c.docmd("XCLIENT PROTO=ESMTP HELO=mx.example ADDR=IPV6:2001:db8::1 "
                         "PORT=4711 SESSION=s+2Bme/id:T2 TTL=3")
    assert code == 220, text
    c.ehlo("proxy.example")
    code, text = deliver_one(c, "alice@example.com")
    assert code == 250 and "s+me/id:T2 Saved" in text, text
    c.quit()
    # the log line may land a moment after the reply (ASan builds)
    assert wait_for(lambda: "XCLIENT: client 2001:db8::1:4711, session "
                    "s+me/id:T2, ttl 3" in a_inst.log()), a_inst.log()
    with open(a_inst.conf, "a") as f:
        f.write("login_trusted_networks = 10.0.0.0/99\n")
    bad = subprocess.run([binary("loftd"), "-c", a_inst.conf, "--check"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "login_trusted_networks: Invalid CIDR" in bad.stderr


def test_proxy_loop_ends_with_451(fleet):
    """Two proxies routing a user to each other: each hop forwards TTL one
    lower, and the hop that gets TTL=0 answers 451 4.4.6, which comes back
    through every hop (Dovecot answers 554; a loop is a configuration error
    to mend, so the mail waits)"""
    instance, start = fleet
    a_inst, b_inst = instance([]), instance([])
    trust = "lmtp_proxy = yes\nlogin_trusted_networks = 127.0.0.0/8\n"
    a = start(a_inst, extra=trust)
    b = start(b_inst, extra=trust)
    proxy_users(a_inst, {"loop@example.com": ("127.0.0.1", b.port)})
    proxy_users(b_inst, {"loop@example.com": ("127.0.0.1", a.port)})
    c = lmtp_from("127.0.0.1", a.port)
    c.mail("sender@example.org")
    code, text = c.rcpt("loop@example.com")
    c.quit()
    assert code == 451, text
    assert text == b"4.4.6 <loop@example.com> Proxying appears to be looping (TTL=0)"
    # a got TTL 4, 2 and 0 (b: 5, 3, 1); a refused
    a_log, b_log = a_inst.log(), b_inst.log()
    assert [t for t in ("ttl 4", "ttl 2", "ttl 0") if t in a_log] == ["ttl 4", "ttl 2", "ttl 0"]
    assert all(t in b_log for t in ("ttl 5", "ttl 3", "ttl 1"))
    assert "appears to be looping (TTL=0)" in a_inst.log("loft.log")


def test_proxy_to_itself_is_refused_at_once(fleet):
    """A user routed to the proxy's own address and port: 451 4.4.6 at
    once (Dovecot's "loops to itself", which it answers 554), without a
    connection to itself; a renamed user (destuser) may come back"""
    instance, start = fleet
    p_inst = instance([])
    p = start(p_inst, extra="lmtp_proxy = yes\n")
    p_inst.users = [f"self@example.com:::::::userdb_proxy=y userdb_host=127.0.0.1 "
                    f"userdb_port={p.port}",
                    f"alias@example.com:::::::userdb_proxy=y userdb_host=127.0.0.1 "
                    f"userdb_port={p.port} userdb_destuser=local@example.com",
                    f"local@example.com::{NOBODY.pw_uid}:{NOBODY.pw_gid}::::"]
    p_inst.write_passwd()
    got = transaction(p.port, ["self@example.com", "alias@example.com"])
    assert got["self@example.com"] == (
        451, "4.4.6 <self@example.com> Proxying loops to itself"), got
    assert got["alias@example.com"][0] == 250, got
    assert len(p_inst.new_files("local@example.com")) == 1
    connects = [l for l in p_inst.log().splitlines() if "Connect from" in l]
    # the readiness probe, the client, and the alias's relay
    assert len(connects) == 3, connects


DOVECOT_LMTP = "/usr/lib/dovecot/lmtp"


@pytest.mark.skipif(not os.path.exists(DOVECOT_LMTP),
                    reason="dovecot-lmtpd not installed (scripts/deps.sh)")
def test_xclient_to_a_dovecot_backend(fleet):
    """A Dovecot LMTP backend that trusts the proxy takes loft's XCLIENT
    (pipelined with LHLO): its delivery is logged under the proxy's
    transaction id with :P1 and names the original client"""
    instance = fleet[0]
    root = tempfile.mkdtemp(prefix="loft-dovecot-")
    os.chmod(root, 0o755)
    vmail = os.path.join(root, "vmail")
    os.makedirs(vmail)
    os.chown(vmail, NOBODY.pw_uid, NOBODY.pw_gid)
    port = unused_port()
    conf = os.path.join(root, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""instance_name = loft-test-{os.path.basename(root)}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
default_internal_user = root
default_internal_group = root
default_login_user = root
first_valid_uid = 1
login_trusted_networks = 127.0.0.1
mail_location = maildir:~/Maildir
passdb {{
  driver = static
  args = nopassword=y
}}
userdb {{
  driver = static
  args = uid={NOBODY.pw_uid} gid={NOBODY.pw_gid} home={vmail}/%n
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {port}
  }}
}}
""")
    subprocess.run(["/usr/sbin/dovecot", "-c", conf], check=True)
    try:
        p_inst = instance([])
        proxy_users(p_inst, {"alice@example.com": ("127.0.0.1", port)})
        p = fleet[1](p_inst, extra="lmtp_proxy = yes\n")
        assert wait_for(lambda: os.path.exists(os.path.join(root, "run", "master.pid")))
        c = lmtp_from("127.0.0.7", p.port)
        code, text = deliver_one(c, "alice@example.com")
        c.quit()
        assert code == 250, text
        proxy_id = re.search(r"lmtp\(alice@example\.com\)<\d+><(\S+)>", p_inst.log()).group(1)
        new = os.path.join(vmail, "alice", "Maildir", "new")
        assert wait_for(lambda: os.path.isdir(new) and os.listdir(new) != [])

        def log():
            with open(os.path.join(root, "dovecot.log")) as f:
                return f.read()
        assert wait_for(lambda: f"<{proxy_id}:P1>: Info: " in log()), log()
        # Dovecot's Received: line names the original client
        with open(os.path.join(new, os.listdir(new)[0]), "rb") as f:
            head = f.read().split(b"\n\n")[0]
        assert b"([127.0.0.7])" in head, head
    finally:
        subprocess.run(["/usr/sbin/dovecot", "-c", conf, "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
