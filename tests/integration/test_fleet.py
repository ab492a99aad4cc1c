"""A small fleet: users in a real PostgreSQL server, two loft backends on
different loopback addresses reading the same users table, and a loft
LMTP proxy in front that routes each recipient by the table's proxy/host/
port columns. Mail for each backend's users lands there; one transaction
with recipients on both is answered per recipient; PostgreSQL restarted
under load costs 451s while it is down and nothing after, without
restarting loft; addresses written as SQL injections store nothing; a
backend killed mid-run costs only its own recipients 451 and loses
nothing it acknowledged."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import Daemon, Instance, NOBODY, binary, needs_root, wait_for
from test_lmtp_proxy import transaction
from test_userdb_sql import PG_BIN, mail_database, sql_conf

pytestmark = [needs_root, pytest.mark.skipif(
    not PG_BIN, reason="PostgreSQL server binaries not installed (scripts/deps.sh)")]

BACKENDS = {"127.0.0.2": ["ann@example.com", "bea@example.com"],
            "127.0.0.3": ["cid@example.com", "dot@example.com"]}


@pytest.fixture(scope="module")
def pg():
    yield from mail_database("proxy text, host text, port integer")


def instance(roots, pg, listen, extra=""):
    root = tempfile.mkdtemp(prefix="loft-fleet-")
    os.chmod(root, 0o755)
    roots.append(root)
    inst = Instance(root)
    sql_conf(inst, pg, query="user_query = SELECT home, uid, gid, proxy, host, "
             "port FROM users WHERE userid = '%u'\n")
    inst.write_conf()
    d = Daemon(inst, extra=extra)
    # each backend on its own loopback address
    with open(inst.conf) as f:
        text = f.read()
    with open(inst.conf, "w") as f:
        f.write(text.replace("address = 127.0.0.1", f"address = {listen}"))
    d.host = listen
    return inst, d


def send(port, rcpts):
    """{rcpt: code}: one transaction through the proxy, every reply read
    (smtplib reads one reply after DATA, LMTP gives one per recipient)"""
    return {r: code for r, (code, _) in transaction(port, rcpts).items()}


def test_fleet_routes_and_survives_a_database_restart(pg):
    roots, daemons = [], []
    try:
        backends = {}
        for addr in BACKENDS:
            # they trust the proxy's XCLIENT (its source address is
            # 127.0.0.1 whichever loopback address it connects to)
            backends[addr] = instance(roots, pg, addr,
                                      extra="login_trusted_networks = 127.0.0.1\n")
        proxy_inst, proxy = instance(roots, pg, "127.0.0.1",
                                     extra="lmtp_proxy = yes\n")
        for addr, users in BACKENDS.items():
            inst, d = backends[addr]
            for u in users:
                pg.sql(f"INSERT INTO users VALUES ('{u}', '{inst.home(u)}', "
                       f"{NOBODY.pw_uid}, {NOBODY.pw_gid}, 'y', '{addr}', {d.port})")
        # Daemon.start probes 127.0.0.1: the backends are started here
        for addr, (inst, d) in backends.items():
            d.proc = subprocess.Popen([binary("loftd"), "-c", inst.conf, "-F"],
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
            daemons.append(d)
            assert wait_for(lambda: greets(addr, d.port)), inst.log("loft.log")
        proxy.start()
        daemons.append(proxy)

        everyone = [u for users in BACKENDS.values() for u in users]
        got = transaction(proxy.port, everyone)
        assert all(code == 250 for code, _ in got.values()), got
        # each backend's id is the proxy's transaction id and :P<n>, the
        # backend's rank in the transaction
        ids = {u: text.split()[2] for u, (_, text) in got.items()}
        trans_id = ids["ann@example.com"].rsplit(":P", 1)[0]
        assert ids["ann@example.com"] == trans_id + ":P1", ids
        assert ids["bea@example.com"] == trans_id + ":P1:R2", ids
        assert ids["cid@example.com"] == trans_id + ":P2", ids
        assert ids["dot@example.com"] == trans_id + ":P2:R2", ids
        for addr, users in BACKENDS.items():
            inst, _ = backends[addr]
            for u in users:
                assert len(inst.new_files(u)) == 1, (addr, u)
        # nothing of another backend's users here
        ann_home = backends["127.0.0.3"][0].home("ann@example.com")
        assert not os.path.exists(ann_home)

        # PostgreSQL restarted under load: 451 while it is down, then
        # every delivery goes through again without touching loft
        pg.stop()
        try:
            got = send(proxy.port, ["ann@example.com", "cid@example.com"])
            assert set(got.values()) == {451}, got
        finally:
            pg.start()
        assert wait_for(lambda: set(send(proxy.port, everyone).values()) == {250},
                        timeout=40, interval=1)
        # every acknowledged message is stored on its backend
        for addr, users in BACKENDS.items():
            inst, _ = backends[addr]
            for u in users:
                assert len(inst.new_files(u)) >= 2, (addr, u)

        # addresses written as SQL injections are names like any other:
        # refused or unknown, nothing stored, the table intact
        before = {u: len(backends[a][0].new_files(u))
                  for a, us in BACKENDS.items() for u in us}
        for evil in ["x' OR '1'='1@example.com",
                     "ann@example.com' OR userid LIKE '%",
                     "'; DROP TABLE users; --@example.com"]:
            code = send(proxy.port, [evil])[evil]
            assert 500 <= code < 600, (evil, code)
        assert set(send(proxy.port, everyone).values()) == {250}

        # a backend killed in the middle of a run: its recipients get
        # 451, the other backend's still 250, and every acknowledged
        # message is stored on its backend
        acked = {u: 0 for u in everyone}
        codes = {u: [] for u in everyone}
        dead_inst, dead = backends["127.0.0.3"]
        for i in range(12):
            if i == 4:
                victims = dead.children(None) + [dead.proc.pid]
                for pid in victims:
                    os.kill(pid, signal.SIGKILL)
                dead.proc.wait()
            for u, code in send(proxy.port, everyone).items():
                codes[u].append(code)
                acked[u] += code == 250
        for u in BACKENDS["127.0.0.2"]:
            assert codes[u] == [250] * 12, (u, codes[u])
        for u in BACKENDS["127.0.0.3"]:
            assert codes[u][:4] == [250] * 4 and codes[u][4:] == [451] * 8, (u, codes[u])
        for a, users in BACKENDS.items():
            for u in users:
                stored = len(backends[a][0].new_files(u)) - before[u] - 1
                assert stored >= acked[u], (u, stored, acked[u])
    finally:
        for d in daemons:
            d.stop()
        for r in roots:
            shutil.rmtree(r, ignore_errors=True)


def greets(host, port):
    """whether an LMTP server answers 220 on host:port"""
    try:
        with socket.create_connection((host, port), timeout=1) as s:
            return s.recv(100).startswith(b"220 ")
    except OSError:
        return False
