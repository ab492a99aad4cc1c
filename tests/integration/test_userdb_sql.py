"""The sql userdb against a real PostgreSQL server (Debian's postgresql,
initdb'd into a temporary folder as the postgres user, on a private port):
deliveries resolve through user_query; addresses that try SQL injection
reach the server only as parameters; a server that is down or slow is a
temporary failure, and loft recovers when it is back without a restart;
several host= entries are tried in turn."""
import glob
import os
import pwd
import shutil
import smtplib
import subprocess
import tempfile
import time

import pytest

from conftest import Daemon, SAMPLE, NOBODY, binary, free_port, needs_root, wait_for

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
pytestmark = [needs_root, pytest.mark.skipif(
    not PG_BIN or not os.path.exists(os.path.join(PG_BIN[-1], "initdb")),
    reason="PostgreSQL server binaries not installed (scripts/deps.sh)")]


class Postgres:
    """A private PostgreSQL cluster run as the postgres user."""

    def __init__(self):
        self.bin = PG_BIN[-1]
        self.dir = tempfile.mkdtemp(prefix="loft-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        pg = pwd.getpwnam("postgres")
        os.chown(self.dir, pg.pw_uid, pg.pw_gid)
        self.as_pg([os.path.join(self.bin, "initdb"), "-D", self.data,
                    "--auth=trust", "-U", "postgres", "-E", "UTF8"])

    def as_pg(self, cmd, **kwargs):
        return subprocess.run(["runuser", "-u", "postgres", "--"] + cmd,
                              check=True, capture_output=True, timeout=120, **kwargs)

    def start(self):
        self.as_pg([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-w", "-l",
                    os.path.join(self.dir, "pg.log"), "-o",
                    f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1",
                    "start"])

    def stop(self, mode="fast"):
        subprocess.run(["runuser", "-u", "postgres", "--",
                        os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                        "-m", mode, "-w", "stop"], capture_output=True, timeout=120)

    def sql(self, text, db="mail"):
        return self.as_pg([os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p",
                           str(self.port), "-d", db, "-v", "ON_ERROR_STOP=1", "-At",
                           "-c", text]).stdout.decode()

    def cleanup(self):
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pg():
    yield from mail_database("quota text")


def mail_database(columns):
    """a private server with database mail and its users table (userid,
    home, uid, gid, then columns), removed afterwards"""
    server = Postgres()
    server.start()
    try:
        server.sql("CREATE DATABASE mail", db="postgres")
        server.sql("CREATE TABLE users (userid text PRIMARY KEY, home text, "
                   f"uid integer, gid integer, {columns})")
        yield server
    finally:
        server.cleanup()


def sql_conf(inst, pg, connect=None, query=None):
    path = os.path.join(inst.root, "loft-sql.conf")
    connect = connect or f"host=127.0.0.1 port={pg.port} dbname=mail user=postgres"
    with open(path, "w") as f:
        f.write("# dovecot-sql.conf.ext syntax\n"
                "driver = pgsql\n"
                f"connect = {connect}\n"
                "password_query = SELECT password FROM users WHERE userid = '%u'\n")
        f.write(query or "user_query = SELECT home, uid, gid, \\\n"
                "  quota AS userdb_quota_rule \\\n"
                "  FROM users WHERE userid = '%u'\n")
    os.chmod(path, 0o600)
    inst.userdb = f"""
        userdb {{
          driver = sql
          args = {path}
        }}"""
    return path


def add_user(inst, pg, user):
    home = inst.home(user)
    pg.sql(f"INSERT INTO users VALUES ('{user}', '{home}', {NOBODY.pw_uid}, "
           f"{NOBODY.pw_gid}, NULL) ON CONFLICT DO NOTHING")
    return home


def send(d, rcpts):
    """One transaction; {rcpt: (code, text)}."""
    with smtplib.LMTP("127.0.0.1", d.port, timeout=60) as c:
        c.ehlo("sqltest")
        try:
            refused = c.sendmail("s@example.org", rcpts, SAMPLE)
        except smtplib.SMTPRecipientsRefused as e:
            return e.recipients
        except smtplib.SMTPDataError as e:
            return {r: (e.smtp_code, e.smtp_error) for r in rcpts}
        return {r: refused.get(r, (250, b"")) for r in rcpts}


def start(inst, extra=""):
    d = Daemon(inst, extra=extra)
    d.start()
    return d


def test_lookup_delivers_and_unknown_is_550(inst, pg):
    sql_conf(inst, pg)
    add_user(inst, pg, "alice@example.com")
    d = start(inst)
    try:
        got = send(d, ["alice@example.com", "nobody-here@example.com"])
        assert got["alice@example.com"][0] == 250
        assert got["nobody-here@example.com"][0] == 550
        assert len(inst.new_files("alice@example.com")) == 1
        # the checked config and loftadm user go through the same driver
        out = subprocess.run([binary("loftadm"), "-c", inst.conf, "user",
                              "alice@example.com"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert inst.home("alice@example.com") in out.stdout
    finally:
        d.stop()


def test_injection_attempts_are_parameters(inst, pg):
    sql_conf(inst, pg)
    add_user(inst, pg, "bob@example.com")
    # every character allowed: the driver itself must hold
    d = start(inst, extra="auth_username_chars =\n")
    try:
        hostile = ["\"x' OR '1'='1\"@example.com",
                   "\"'; DROP TABLE users; --\"@example.com",
                   "\"bob@example.com' --\"@example.com",
                   "\"%u' OR userid LIKE '%\"@example.com"]
        got = send(d, hostile + ["bob@example.com"])
        for rcpt in hostile:
            assert got[rcpt][0] == 550, (rcpt, got[rcpt])
        assert got["bob@example.com"][0] == 250
        assert "bob@example.com" in pg.sql("SELECT userid FROM users")
    finally:
        d.stop()


def test_database_down_is_451_and_recovers(inst, pg):
    sql_conf(inst, pg)
    add_user(inst, pg, "carol@example.com")
    d = start(inst)
    try:
        assert send(d, ["carol@example.com"])["carol@example.com"][0] == 250
        pg.stop()
        try:
            got = send(d, ["carol@example.com"])["carol@example.com"]
            assert got[0] == 451, got
        finally:
            pg.start()
        # no restart of loft: the pool reconnects (a host that refused is
        # rested for at most 8 s)
        assert wait_for(lambda: send(d, ["carol@example.com"])["carol@example.com"][0] == 250,
                        timeout=30, interval=1)
        assert wait_for(lambda: "user_query failed" in inst.log("loft.log"))
    finally:
        d.stop()


def test_slow_query_times_out_as_451(inst, pg):
    sql_conf(inst, pg, query="user_query = SELECT home, uid, gid FROM users, "
             "pg_sleep(30) WHERE userid = '%u'\n")
    add_user(inst, pg, "dave@example.com")
    d = start(inst, extra="userdb_sql_timeout = 1s\n")
    try:
        t0 = time.monotonic()
        got = send(d, ["dave@example.com"])["dave@example.com"]
        assert got[0] == 451, got
        assert time.monotonic() - t0 < 20
        # loft-log writes the line a moment after the reply
        assert wait_for(lambda: "query timed out" in inst.log("loft.log"))
    finally:
        d.stop()


def test_hosts_tried_in_turn(inst, pg):
    # libpq's port= applies to every host: the first one is an address
    # nothing listens on
    sql_conf(inst, pg, connect=f"host=127.0.0.9 host=127.0.0.1 port={pg.port} "
             f"dbname=mail user=postgres connect_timeout=2")
    add_user(inst, pg, "erin@example.com")
    d = start(inst)
    try:
        for _ in range(3):
            assert send(d, ["erin@example.com"])["erin@example.com"][0] == 250
        assert len(inst.new_files("erin@example.com")) == 3
    finally:
        d.stop()


def test_check_refuses_bad_files(inst, pg):
    bad = [("driver = mysql\nconnect = x=y\n", "supports pgsql only"),
           ("driver = pgsql\nconnect = host=a\nuser_query = SELECT \"%u\" FROM t\n",
            "cannot be passed safely"),
           ("driver = pgsql\nconnect = host=a\nsomething = 1\n", ":3: Unknown setting"),
           ("driver = pgsql\nconnect = nokey\n", "not key=value")]
    path = sql_conf(inst, pg)
    for text, want in bad:
        with open(path, "w") as f:
            f.write(text)
        inst.write_conf()
        out = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and want in out.stderr + out.stdout, (text, out)


def test_auth_cache(inst, pg):
    """auth_cache_*: hits and misses counted; a cached user is delivered
    while the database is down; a cached "unknown" lasts its own TTL; an
    expired answer is used when the lookup that should replace it fails"""
    from test_stats import StatsDaemon
    sql_conf(inst, pg)
    add_user(inst, pg, "frank@example.com")
    pg.sql("DELETE FROM users WHERE userid = 'gina@example.com'")
    d = StatsDaemon(inst, extra="auth_cache_size = 1M\nauth_cache_ttl = 2s\n"
                    "auth_cache_negative_ttl = 3s\n")
    d.start()
    try:
        got = send(d, ["frank@example.com", "gina@example.com"])
        assert got["frank@example.com"][0] == 250
        assert got["gina@example.com"][0] == 550
        # gina is unknown, and stays so for the negative TTL
        add_user(inst, pg, "gina@example.com")
        assert send(d, ["gina@example.com"])["gina@example.com"][0] == 550
        assert send(d, ["frank@example.com"])["frank@example.com"][0] == 250
        assert wait_for(lambda: (d.metric("loft_userdb_cache_hits_total") or 0) >= 2)
        assert d.metric("loft_userdb_cache_misses_total") >= 2
        assert wait_for(lambda: send(d, ["gina@example.com"])["gina@example.com"][0] == 250,
                        timeout=10, interval=0.5)
        # frank's answer expires; with the database down it is used anyway
        time.sleep(2.5)
        pg.stop()
        try:
            assert send(d, ["frank@example.com"])["frank@example.com"][0] == 250
            assert wait_for(lambda: "using its expired cache entry" in
                            inst.log("loft.log"))
        finally:
            pg.start()
        assert len(inst.new_files("frank@example.com")) == 3
    finally:
        d.stop()


def test_loftadm_user_mask_iterates(inst, pg):
    """`loftadm user MASK` lists the users of iterate_query (user, or
    username + domain) and of a passwd-file, filtered by the mask"""
    sql_conf(inst, pg, query="iterate_query = SELECT split_part(userid, '@', 1) "
             "AS username, split_part(userid, '@', 2) AS domain FROM users\n")
    for u in ("hal@example.com", "ida@example.net"):
        add_user(inst, pg, u)
    inst.userdb += f"""
        userdb {{
          driver = passwd-file
          args = {inst.passwd}
        }}
        userdb {{
          driver = static
          args = uid=nobody gid=nogroup home=/nonexistent/%u
        }}"""
    inst.write_conf()

    def users(mask, fmt="json"):
        out = subprocess.run([binary("loftadm"), "-c", inst.conf, "-f", fmt, "user", mask],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "1 userdb(s) cannot list their users" in out.stderr
        return out.stdout

    import json
    got = json.loads(users("*"))
    assert {"hal@example.com", "ida@example.net", "user0@example.com",
            "user1@example.com"} <= set(got)
    assert json.loads(users("*@example.net")) == ["ida@example.net"]
    assert users("user?@*", fmt="table").splitlines() == [
        "user", "user0@example.com", "user1@example.com"]
