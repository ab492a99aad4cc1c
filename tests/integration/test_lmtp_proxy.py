"""lmtp_proxy = yes: a loft in front of two loft backends routes each
recipient by its userdb's proxy/host/port fields. One transaction with
recipients on both is answered per recipient with the backends' own
replies; a backend that is down, dies during DATA or answers garbage costs
only its own recipients a 451; backend connections are reused."""
import os
import shutil
import smtplib
import socket
import tempfile
import threading

import pytest

from conftest import SAMPLE, Daemon, Instance, needs_root, wait_for

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
    with bytes that are no reply"""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
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
        for line in f:
            verb = line[:4].upper()
            if verb == b"LHLO":
                f.write(b"250-fake\r\n250 PIPELINING\r\n")
            elif verb == b"DATA":
                f.write(b"354 go\r\n")
                f.flush()
                for body in f:
                    if body == b".\r\n":
                        break
                if self.mode == "close":
                    conn.close()
                    return
                f.write(b"\x00\x01garbage\r\n")
            else:
                f.write(b"250 2.1.0 OK\r\n")
            f.flush()
        conn.close()

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


def test_backend_metrics_and_journal(fleet):
    """loft_proxy_deliveries_total{backend,result} and
    loft_proxy_backend_up{backend} on the proxy, and its journal entries
    for relayed recipients"""
    from test_stats import StatsDaemon
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
    finally:
        p.stop()
