"""The auth-userdb socket: loft-auth answering Dovecot's auth-master
protocol (service auth), loft-lda -d as vmail resolving through it with a
userdb file it cannot read, doveadm against loft's socket, loft using a
real Dovecot's auth-userdb socket as its userdb (driver = auth), and
dead, slow or garbage-answering sockets as temporary failures."""
import json
import os
import pwd
import shutil
import smtplib
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import Daemon, NOBODY, SAMPLE, binary, is_root, wait_for

pytestmark = pytest.mark.skipif(not is_root(), reason="needs root (users, setpriv)")

VMAIL = "vmail"


@pytest.fixture(scope="module")
def vmail():
    """The vmail system user and group the seed setups use (created when
    missing; kept, as a system user is)."""
    try:
        pw = pwd.getpwnam(VMAIL)
    except KeyError:
        # another test run may be creating it at the same moment
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", VMAIL], capture_output=True)
        pw = pwd.getpwnam(VMAIL)
    return pw


def as_user(name, cmd, **kwargs):
    pw = pwd.getpwnam(name)
    full = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"] + cmd
    return subprocess.run(full, capture_output=True, timeout=60, **kwargs)


PROBE = """
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
data, finals = b"", 0
try:
    s.sendall(b"VERSION\\t1\\t0\\n" + b"".join(a.encode().replace(b"|", b"\\t") + b"\\n" for a in sys.argv[2:]))
    while finals < len(sys.argv) - 2:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
        finals = sum(1 for l in data.split(b"\\n") if l.split(b"\\t")[0] in (b"USER", b"NOTFOUND", b"FAIL", b"DONE"))
except OSError:
    pass
print(data.decode().replace("\\t", "|"))
"""


def ask_as(user, path, *requests):
    """requests (fields separated by |) sent as user; the replies, | for TAB"""
    r = as_user(user, ["/usr/bin/python3", "-c", PROBE, path] + list(requests))
    assert r.returncode == 0, r
    return r.stdout.decode()


def private_passwd(inst, lines):
    """The userdb file as the seeds keep it: root:nogroup 0640, readable by
    loft-auth (default_internal_user nobody) and not by vmail."""
    with open(inst.passwd, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chown(inst.passwd, 0, NOBODY.pw_gid)
    os.chmod(inst.passwd, 0o640)


def auth_daemon(inst, lines, listener="mode = 0600"):
    """loftd serving service auth with lines as its (private) userdb"""
    private_passwd(inst, lines)
    d = Daemon(inst, extra=auth_conf(listener))
    d.start()
    return d


def vmail_home(inst, vmail, local):
    home = os.path.join(inst.root, "vhome", local)
    os.makedirs(home)
    os.chown(os.path.dirname(home), vmail.pw_uid, vmail.pw_gid)
    os.chown(home, vmail.pw_uid, vmail.pw_gid)
    return home


class AuthClient:
    """A raw auth-master protocol client."""

    def __init__(self, path, version=True):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb")
        if version:
            self.sock.sendall(b"VERSION\t1\t0\n")

    def line(self):
        line = self.reader.readline()
        if not line.endswith(b"\n"):
            raise EOFError(line)
        return line[:-1].decode()

    def handshake(self):
        v = self.line().split("\t")
        s = self.line().split("\t")
        return v, s

    def ask(self, text):
        self.sock.sendall(text.encode() + b"\n")
        return self.line().split("\t")

    def closed(self, timeout=10):
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(65536):
                    return True
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self):
        self.reader.close()
        self.sock.close()


def auth_conf(extra_listener="mode = 0600\n    user = vmail\n    group = vmail"):
    return f"""
        mail_debug = yes
        service auth {{
          unix_listener auth-userdb {{
            {extra_listener}
          }}
        }}
        """


def lda_as_vmail(inst, user, msg=SAMPLE):
    return as_user(VMAIL, [binary("loft-lda"), "-e", "-c", inst.conf, "-d", user, "-f", "a@b.example"],
                   input=msg)


def maildir_new(home):
    d = os.path.join(home, "Maildir", "new")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_lda_as_vmail_resolves_through_the_socket(inst, vmail):
    home = vmail_home(inst, vmail, "alice")
    private_passwd(inst, [
        f"alice@example.com:{{SHA512-CRYPT}}$6$hash:vmail:vmail::{home}::userdb_mail=maildir:~/Maildir",
    ])
    d = Daemon(inst, extra=auth_conf())
    d.start()
    try:
        sock = os.path.join(inst.root, "run", "auth-userdb")
        st = os.stat(sock)
        assert (st.st_mode & 0o777, st.st_uid, st.st_gid) == (0o600, vmail.pw_uid, vmail.pw_gid)
        # the pipe user cannot read the userdb (it holds password hashes)
        r = as_user(VMAIL, ["cat", inst.passwd])
        assert r.returncode != 0 and b"Permission denied" in r.stderr
        # ... and another user cannot even connect to the socket
        r = as_user("nobody", ["/usr/bin/python3", "-c",
                               f"import socket; socket.socket(socket.AF_UNIX).connect({sock!r})"])
        assert r.returncode != 0 and b"PermissionError" in r.stderr

        r = lda_as_vmail(inst, "alice@example.com")
        assert r.returncode == 0, r.stderr
        files = maildir_new(home)
        assert len(files) == 1
        path = os.path.join(home, "Maildir", "new", files[0])
        assert os.stat(path).st_uid == vmail.pw_uid
        with open(path, "rb") as f:
            assert b"Hello, this is a test body." in f.read()

        r = lda_as_vmail(inst, "nobody-here@example.com")
        assert r.returncode == 67, r
        assert r.stdout.startswith(b"5.1.1") or r.stderr.startswith(b"5.1.1"), r
        # a name that may not be looked up never reaches the userdb
        r = lda_as_vmail(inst, "../alice@example.com")
        assert r.returncode == 67, r
        assert "lookup for ../alice" not in inst.log()
    finally:
        d.stop()
    # the socket is gone with loftd: the mail is deferred, never bounced
    r = lda_as_vmail(inst, "alice@example.com")
    assert r.returncode == 75, r
    assert r.stdout.startswith(b"4.") or r.stderr.startswith(b"4."), r
    assert len(maildir_new(home)) == 1


def test_protocol_answers(inst, vmail):
    d = auth_daemon(inst, [
        "alice@example.com::vmail:vmail::/home/alice::userdb_mail=maildir:~/Maildir userdb_quota_rule=*:storage=1G",
        "Bob@example.com::1234:1234::/home/bob",
        "tab@example.com::1234:1234::/home/tab::userdb_note=a\tb",
    ])
    try:
        sock = os.path.join(inst.root, "run", "auth-userdb")
        c = AuthClient(sock)
        v, s = c.handshake()
        assert v[:2] == ["VERSION", "1"] and s[0] == "SPID"
        auth_pid = d.children("loft-auth")
        assert auth_pid == [int(s[1])]
        # names resolved to numbers, extra fields as Dovecot sends them
        r = c.ask("USER\t1\talice@example.com\tservice=lda")
        assert r[:3] == ["USER", "1", "alice@example.com"]
        fields = dict(f.split("=", 1) for f in r[3:])
        assert fields == {"uid": str(vmail.pw_uid), "gid": str(vmail.pw_gid),
                          "home": "/home/alice", "mail": "maildir:~/Maildir",
                          "quota_rule": "*:storage=1G"}
        # auth_username_format %Lu: the lookup key is lower-cased
        assert c.ask("USER\t2\tALICE@example.com\tservice=lda")[:3] == ["USER", "2", "alice@example.com"]
        assert c.ask("USER\t3\tnobody@example.com\tservice=lda") == ["NOTFOUND", "3"]
        # refused before any userdb: path characters, control characters
        # (escaped TAB and CR), an empty name
        for n, name in enumerate(["../x", "a/b@example.com", "x\x01ty@example.com",
                                  "x\x01ry@example.com", "\x7f@example.com"], start=4):
            assert c.ask(f"USER\t{n}\t{name}\tservice=lda") == ["NOTFOUND", str(n)], name
        assert c.ask("PASS\t20\talice@example.com\tservice=lda")[:2] == ["FAIL", "20"]
        # LIST: every user of the file, then DONE; a mask filters
        c.sock.sendall(b"LIST\t21\tservice=doveadm\n")
        listed = []
        while True:
            r = c.line().split("\t")
            if r[0] == "DONE":
                assert r == ["DONE", "21", ""]
                break
            assert r[:2] == ["LIST", "21"]
            listed.append(r[2])
        assert listed == ["alice@example.com", "Bob@example.com", "tab@example.com"]
        c.sock.sendall(b"LIST\t22\tuser=a*\n")
        assert c.line() == "LIST\t22\talice@example.com"
        assert c.line() == "DONE\t22\t"
        # pipelined requests are answered in order
        c.sock.sendall(b"USER\t30\tnobody@example.com\nUSER\t31\talice@example.com\n")
        assert c.line().startswith("NOTFOUND\t30")
        assert c.line().startswith("USER\t31\t")
        c.close()
        # loft-log writes the lines after the answers: wait for them
        assert wait_for(lambda: "refused before any userdb" in inst.log()), inst.log()
        log = inst.log()
        assert "lookup for ../x" not in log and "lookup for a/b" not in log
        assert d.children("loft-auth") == auth_pid
    finally:
        d.stop()


def test_protocol_abuse_and_many_clients(inst):
    d = auth_daemon(inst, ["alice@example.com::1234:1234::/home/alice"])
    try:
        sock = os.path.join(inst.root, "run", "auth-userdb")
        pid = d.children("loft-auth")
        # no VERSION first: disconnected
        c = AuthClient(sock, version=False)
        c.handshake()
        c.sock.sendall(b"USER\t1\talice@example.com\n")
        assert c.closed()
        # a wrong major version
        c = AuthClient(sock, version=False)
        c.sock.sendall(b"VERSION\t2\t0\n")
        assert c.closed()
        # an endless line: disconnected at the limit, memory bounded
        c = AuthClient(sock)
        c.handshake()
        try:
            c.sock.sendall(b"USER\t1\t" + b"a" * 100000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert c.closed()
        # NUL bytes, unknown commands, broken ids
        for bad in [b"USER\t1\tal\x00ice\n", b"HELLO\n", b"USER\tx\talice@example.com\n",
                    b"USER\t1\n", b"USER\t1\talice\x01"]:
            c = AuthClient(sock)
            c.handshake()
            c.sock.sendall(bad + (b"\n" if not bad.endswith(b"\n") else b""))
            assert c.closed(), bad
        # a request sent one byte at a time
        c = AuthClient(sock)
        c.handshake()
        for b in b"USER\t7\talice@example.com\tservice=lda\n":
            c.sock.send(bytes([b]))
        assert c.line().startswith("USER\t7\talice@example.com\t")
        c.close()
        # many clients at once, all answered
        clients = []
        for i in range(300):
            cl = AuthClient(sock)
            cl.sock.sendall(f"USER\t{i}\talice@example.com\tservice=lda\n".encode())
            clients.append(cl)
        for i, cl in enumerate(clients):
            cl.handshake()
            assert cl.line().startswith(f"USER\t{i}\talice@example.com\t")
            cl.close()
        assert d.children("loft-auth") == pid
    finally:
        d.stop()


def test_socket_group_members_known_from_their_credentials(inst, vmail):
    """Mode 0666 with group vmail: a peer with vmail among its
    supplementary groups gets every answer, one without it only its own
    uid's. The groups are the ones the peer had at connect()
    (SO_PEERGROUPS), not what /proc says about its pid later."""
    private_passwd(inst, [
        f"own@example.com::{vmail.pw_uid}:{vmail.pw_gid}::/home/own",
        "other@example.com::1234:1234::/home/other",
    ])
    d = Daemon(inst, extra=f"""
        service auth {{
          unix_listener auth-userdb {{
            mode = 0666
            user = root
            group = {VMAIL}
          }}
        }}
        """)
    d.start()
    try:
        sock = os.path.join(inst.root, "run", "auth-userdb")

        def ask(groups):
            r = subprocess.run(["setpriv", f"--reuid={NOBODY.pw_uid}",
                                f"--regid={NOBODY.pw_gid}", f"--groups={groups}",
                                "/usr/bin/python3", "-c", PROBE, sock,
                                "USER|1|other@example.com|service=lda"],
                               capture_output=True, timeout=60)
            assert r.returncode == 0, r
            return r.stdout.decode()
        assert "USER|1|other@example.com|uid=1234" in ask(str(vmail.pw_gid))
        out = ask(str(NOBODY.pw_gid))
        assert "FAIL|1" in out and "uid=1234" not in out, out
    finally:
        d.stop()


HOARD = """
import socket, sys, time
held, answered = [], 0
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(sys.argv[1])
    held.append(s)
for s in held:
    try:
        answered += s.recv(4096).startswith(b"VERSION")
    except OSError:
        pass
print(answered, flush=True)
sys.stdin.read()
"""


def test_one_stranger_cannot_hold_every_connection(inst, vmail):
    """A stranger on the 0666 socket (nobody) opens 200 connections and
    holds them: it gets 32, the rest are closed at once, logged once, so
    the client_limit slots stay for everyone else (it could take them all
    and make every other user's loft-lda -d fail with 75)."""
    private_passwd(inst, [
        f"own@example.com::{vmail.pw_uid}:{vmail.pw_gid}::/home/own",
        "other@example.com::1234:1234::/home/other",
    ])
    d = Daemon(inst, extra="""
        service auth {
          client_limit = 100
          unix_listener auth-userdb {
            mode = 0666
            user = root
          }
        }
        """)
    d.start()
    sock = os.path.join(inst.root, "run", "auth-userdb")
    hoard = subprocess.Popen(["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}",
                              "--clear-groups", "/usr/bin/python3", "-c", HOARD, sock, "200"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert int(hoard.stdout.readline()) == 32
        out = ask_as(VMAIL, sock, "USER|1|own@example.com|service=lda")
        assert "USER|1|own@example.com|uid=%d" % vmail.pw_uid in out, out
        c = AuthClient(sock)
        c.handshake()
        assert c.ask("USER\t2\tother@example.com")[:2] == ["USER", "2"]
        c.close()
        assert wait_for(lambda: "uid %d already has 32 connections" % NOBODY.pw_uid
                        in inst.log("loft.log"))
        assert inst.log("loft.log").count("already has 32 connections") == 1
    finally:
        hoard.kill()
        hoard.wait()
        d.stop()


def test_out_of_fds_backs_off(inst):
    """Issue 10, point 5, for loft-auth's listener: with accept() failing
    (EMFILE) it pauses instead of spinning and logging each attempt, and
    answers again once descriptors are free."""
    from test_stats_security import assert_quiet_while, open_fds, set_nofile
    d = Daemon(inst, extra="service auth {\n}\n")
    d.start()
    sock = os.path.join(inst.root, "run", "auth-userdb")
    held = []
    try:
        [pid] = d.children("loft-auth")
        set_nofile(pid, open_fds(pid) + 4)
        for _ in range(30):
            s = socket.socket(socket.AF_UNIX)
            s.connect(sock)
            held.append(s)
        time.sleep(0.5)
        assert_quiet_while(pid, inst)
        assert "Too many open files" in inst.log("loft.log")
        for s in held:
            s.close()

        # fds free again: a new client is answered (as the LMTP and
        # stats-writer twins of this test ask: a fresh connection a try)
        def answered():
            try:
                c = AuthClient(sock)
                c.sock.settimeout(1)
                c.handshake()
                ok = c.ask("USER\t1\tuser0@example.com")[:2] == ["USER", "1"]
                c.close()
                return ok
            except (OSError, EOFError):
                return False
        assert wait_for(answered, timeout=10)
        assert d.children("loft-auth") == [pid]
    finally:
        for s in held:
            s.close()
        d.stop()


def test_mode_0666_restricts_and_widened_socket_refuses(inst, vmail):
    private_passwd(inst, [
        f"own@example.com::{vmail.pw_uid}:{vmail.pw_gid}::/home/own",
        "other@example.com::1234:1234::/home/other",
    ])
    d = Daemon(inst, extra="""
        mail_debug = yes
        service auth {
          unix_listener auth-userdb {
            mode = 0666
            user = root
          }
          unix_listener auth-master {
            mode = 0600
            user = vmail
          }
        }
        """)
    d.start()
    try:
        run = os.path.join(inst.root, "run")
        # Dovecot's rule for 0666: a peer that is neither owner nor in the
        # group may look up only users with its own uid, and not list
        out = ask_as(VMAIL, os.path.join(run, "auth-userdb"), "USER|1|own@example.com|service=lda")
        assert "USER|1|own@example.com|uid=%d" % vmail.pw_uid in out, out
        out = ask_as(VMAIL, os.path.join(run, "auth-userdb"), "USER|2|other@example.com|service=lda")
        assert "FAIL|2" in out and "uid=1234" not in out, out
        out = ask_as(VMAIL, os.path.join(run, "auth-userdb"), "LIST|3")
        assert "DONE|3|fail" in out and "other@example.com" not in out, out
        assert wait_for(lambda: "may look up only its own uid" in inst.log("loft.log"))
        # root sees everything on the same socket
        c = AuthClient(os.path.join(run, "auth-userdb"))
        c.handshake()
        assert c.ask("USER\t4\tother@example.com")[:2] == ["USER", "4"]
        c.close()
        # auth-master 0600 owned by vmail: vmail gets full answers ...
        out = ask_as(VMAIL, os.path.join(run, "auth-master"), "USER|5|other@example.com")
        assert "USER|5|other@example.com|uid=1234" in out, out
        # ... and a socket file widened behind loftd's back grants nothing
        os.chmod(os.path.join(run, "auth-master"), 0o666)
        out = ask_as("nobody", os.path.join(run, "auth-master"), "USER|6|other@example.com")
        assert "VERSION" not in out and "uid=1234" not in out, out
        assert wait_for(lambda: "connection from pid" in inst.log("loft.log") and
                        "no access" in inst.log("loft.log"))
    finally:
        d.stop()


def test_service_auth_defaults_and_foreign_listeners(inst):
    """`service auth { }` alone gets Dovecot's auth-userdb (0666, owned by
    default_internal_user); listeners of the client protocol are named as
    not used and not created; an inet listener is refused."""
    inst.write_conf(extra="""
        service auth {
          unix_listener auth-client {
            mode = 0600
          }
        }
        """)
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "-a"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    block = r.stdout[r.stdout.index("service auth {"):]
    block = block[:block.index("\n}\n")]
    assert "unix_listener auth-userdb {" in block and "mode = 0666" in block
    assert "user = nobody" in block and "executable = loft-auth" in block
    assert "auth-client" not in block
    assert "unix_listener auth-client is not used by loft" in r.stderr
    inst.write_conf(extra="""
        service auth {
          inet_listener auth {
            port = 12345
          }
        }
        """)
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"], capture_output=True, text=True)
    assert r.returncode == 1 and "loft-auth serves unix_listener only" in r.stderr
    assert f"{inst.conf}:" in r.stderr
    # loft-auth asking its own socket would only ever time out
    inst.write_conf(extra="service auth {\n}\n", userdb=f"""
        userdb {{
          driver = auth
          args = timeout=5s {inst.root}/run/auth-userdb
        }}""")
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"], capture_output=True, text=True)
    assert r.returncode == 1 and "loft-auth would ask itself" in r.stderr, r.stderr
    assert f"{inst.conf}:" in r.stderr


@pytest.mark.skipif(shutil.which("doveadm") is None, reason="doveadm (dovecot-core) missing")
def test_doveadm_user_against_loft_socket(inst, vmail):
    d = auth_daemon(inst, [
        "alice@example.com::vmail:vmail::/home/alice::userdb_mail=maildir:~/Maildir",
        "bob@example.com::1234:1234::/home/bob",
    ])
    try:
        sock = os.path.join(inst.root, "run", "auth-userdb")
        r = subprocess.run(["doveadm", "user", "-a", sock, "alice@example.com"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        fields = dict(line.split("\t", 1) for line in r.stdout.splitlines()[1:] if "\t" in line)
        assert fields["uid"] == str(vmail.pw_uid) and fields["home"] == "/home/alice"
        assert fields["mail"] == "maildir:~/Maildir"
        r = subprocess.run(["doveadm", "user", "-a", sock, "nobody@example.com"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 67, r
        r = subprocess.run(["doveadm", "user", "-a", sock, "*"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and r.stdout.split() == ["alice@example.com", "bob@example.com"], r
    finally:
        d.stop()


# --- loft asking another server's socket (driver = auth) ---------------

def lmtp_rcpt(d, rcpt):
    with smtplib.LMTP("127.0.0.1", d.port, timeout=30) as c:
        c.ehlo("client.example")
        c.mail("sender@example.org")
        return c.rcpt(rcpt)


def lmtp_send(d, rcpt):
    with smtplib.LMTP("127.0.0.1", d.port, timeout=30) as c:
        c.ehlo("client.example")
        c.mail("sender@example.org")
        code, msg = c.rcpt(rcpt)
        if code != 250:
            return code, msg
        return c.data(SAMPLE)


def userdb_count(inst, driver, result):
    """loft_userdb_lookup_duration_seconds{driver,result}'s count"""
    r = subprocess.run([binary("loftadm"), "-c", inst.conf, "-f", "json", "stats", "dump"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    rows = data if isinstance(data, list) else data.get("metrics", data.get("stats", []))
    for row in rows:
        if row.get("name") == "loft_userdb_lookup_duration_seconds" and \
                row.get("labels") == {"driver": driver, "result": result}:
            return int(row.get("count", 0))
    raise AssertionError(f"no userdb histogram in {r.stdout[:500]}")


@pytest.fixture
def dovecot(tmp_path_factory):
    """Debian's Dovecot started privately: its own base_dir, a passwd-file
    userdb, no protocols; only its auth-userdb socket is used."""
    if shutil.which("dovecot") is None:
        pytest.skip("dovecot (dovecot-core) missing")
    root = tempfile.mkdtemp(prefix="loft-dovecot-")
    os.chmod(root, 0o755)
    home = os.path.join(root, "home", "carol")
    os.makedirs(home)
    os.chown(home, NOBODY.pw_uid, NOBODY.pw_gid)
    passwd = os.path.join(root, "passwd")
    with open(passwd, "w") as f:
        f.write(f"carol@example.com::{NOBODY.pw_uid}:{NOBODY.pw_gid}::{home}::userdb_mail=maildir:~/Maildir\n")
    conf = os.path.join(root, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""
base_dir = {root}/run
state_dir = {root}/state
protocols =
log_path = {root}/dovecot.log
ssl = no
passdb {{
  driver = passwd-file
  args = {passwd}
}}
userdb {{
  driver = passwd-file
  args = {passwd}
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0666
  }}
}}
""")
    proc = subprocess.Popen(["dovecot", "-F", "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    sock = os.path.join(root, "run", "auth-userdb")
    assert wait_for(lambda: os.path.exists(sock)), open(os.path.join(root, "dovecot.log")).read()

    class D:
        pass
    dv = D()
    dv.proc, dv.sock, dv.home, dv.root = proc, sock, home, root
    yield dv
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=30)
    shutil.rmtree(root, ignore_errors=True)


def test_loft_uses_a_real_dovecot_auth_userdb(inst, dovecot):
    inst.userdb = f"""
        userdb {{
          driver = auth
          args = {dovecot.sock}
        }}"""
    d = Daemon(inst)
    d.start()
    try:
        found = userdb_count(inst, "auth", "found")
        unknown = userdb_count(inst, "auth", "unknown_user")
        code, _ = lmtp_send(d, "carol@example.com")
        assert code == 250
        assert len(maildir_new(dovecot.home)) == 1
        code, msg = lmtp_rcpt(d, "dave@example.com")
        assert code == 550 and b"5.1.1" in msg
        assert wait_for(lambda: userdb_count(inst, "auth", "found") >= found + 1 and
                        userdb_count(inst, "auth", "unknown_user") == unknown + 1)
        # loft-lda pointed at Dovecot's socket by auth_socket_path alone:
        # its own userdb (a passwd-file without carol) is not read then
        conf2 = os.path.join(inst.root, "lda.conf")
        with open(inst.conf) as f, open(conf2, "w") as g:
            g.write(f.read().replace(f"driver = auth\n  args = {dovecot.sock}",
                                     f"driver = passwd-file\n  args = {inst.passwd}"))
        r = subprocess.run([binary("loft-lda"), "-c", conf2, "-e", "-d", "carol@example.com",
                            "-f", "a@b.example"], input=SAMPLE, capture_output=True, timeout=60)
        assert r.returncode == 67, r
        r = subprocess.run([binary("loft-lda"), "-c", conf2, "-e", "-d", "carol@example.com",
                            "-f", "a@b.example", "-o", f"auth_socket_path={dovecot.sock}"],
                           input=SAMPLE, capture_output=True, timeout=60)
        assert r.returncode == 0, r
        assert len(maildir_new(dovecot.home)) == 2
        # Dovecot gone: temporary failure, never "unknown user"
        dovecot.proc.terminate()
        dovecot.proc.wait(timeout=30)
        with pytest.raises(OSError):
            socket.socket(socket.AF_UNIX).connect(dovecot.sock)
        code, msg = lmtp_rcpt(d, "carol@example.com")
        assert code == 451 and b"4.3.0" in msg, (code, msg)
        assert "userdb auth:" in inst.log("loft.log")
        # loft-lda with the same userdb: exit 75
        r = inst.lda("-e", "-d", "carol@example.com", "-f", "a@b.example")
        assert r.returncode == 75, r
    finally:
        d.stop()


class FakeAuthServer:
    """An auth-userdb socket that answers what it is told to."""

    def __init__(self, path, behaviour):
        self.path = path
        self.behaviour = behaviour
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.listen(16)
        self.stop = False
        self.conns = []
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            conn.settimeout(5)
            data = b""
            while b"USER\t" not in data or not data.endswith(b"\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            reply = self.behaviour(data)
            if reply is not None:
                conn.sendall(reply)
                conn.close()
        except OSError:
            pass

    def close(self):
        self.stop = True
        self.thread.join(timeout=5)
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.mark.parametrize("name,reply", [
    ("garbage", b"\x00\xff garbage\n\n"),
    ("version", b"VERSION\t2\t0\nSPID\t1\nUSER\t1\tcarol@example.com\tuid=65534\n"),
    ("other-id", b"VERSION\t1\t0\nSPID\t1\nNOTFOUND\t7\n"),
    ("fail", b"VERSION\t1\t0\nSPID\t1\nFAIL\t1\treason=backend down\n"),
    ("eof", b"VERSION\t1\t0\nSPID\t1\n"),
    ("slow", None),
])
def test_bad_sockets_are_temporary_failures(inst, name, reply):
    path = os.path.join(inst.root, "fake-auth")
    server = FakeAuthServer(path, lambda data: reply)
    inst.userdb = f"""
        userdb {{
          driver = auth
          args = timeout=2s {path}
        }}"""
    d = Daemon(inst)
    d.start()
    try:
        start = time.monotonic()
        code, msg = lmtp_rcpt(d, "carol@example.com")
        assert code == 451 and b"4.3.0" in msg, (name, code, msg)
        assert time.monotonic() - start < 15
        r = inst.lda("-e", "-d", "carol@example.com", "-f", "a@b.example")
        assert r.returncode == 75, (name, r)
    finally:
        d.stop()
        server.close()


def test_fake_socket_answers_are_used(inst):
    """A well-formed reply from another server is taken as Dovecot's:
    fields, a renamed user, NOTFOUND."""
    home = os.path.join(inst.root, "erin")
    os.makedirs(home)
    os.chown(home, NOBODY.pw_uid, NOBODY.pw_gid)

    def behaviour(data):
        if b"USER\t1\terin@example.com" in data:
            return (f"VERSION\t1\t0\nSPID\t1\nUSER\t1\tErin@example.com\tuid={NOBODY.pw_uid}\t"
                    f"gid={NOBODY.pw_gid}\thome={home}\tmail=maildir:~/Mail\x01tbox\n").encode()
        return b"VERSION\t1\t0\nSPID\t1\nNOTFOUND\t1\n"
    path = os.path.join(inst.root, "fake-auth")
    server = FakeAuthServer(path, behaviour)
    inst.userdb = f"""
        userdb {{
          driver = auth
          args = {path}
        }}"""
    d = Daemon(inst)
    d.start()
    try:
        code, _ = lmtp_send(d, "erin@example.com")
        assert code == 250
        assert len(os.listdir(os.path.join(home, "Mail\tbox", "new"))) == 1
        code, msg = lmtp_rcpt(d, "frank@example.com")
        assert code == 550, (code, msg)
    finally:
        d.stop()
        server.close()


def test_reload_replaces_loft_auth_and_keeps_the_socket(inst):
    d = auth_daemon(inst, ["alice@example.com::1234:1234::/home/alice"])
    try:
        sock = os.path.join(inst.root, "run", "auth-userdb")
        old = d.children("loft-auth")
        assert len(old) == 1
        idle = AuthClient(sock)
        idle.handshake()
        r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        # the old process closes its idle connection and exits ...
        assert idle.closed()
        assert wait_for(lambda: d.children("loft-auth") not in ([], old))
        # ... and the socket (the same listener) is served by the new one
        c = AuthClient(sock)
        v, s = c.handshake()
        assert int(s[1]) != old[0]
        assert c.ask("USER\t1\talice@example.com")[:3] == ["USER", "1", "alice@example.com"]
        c.close()
        assert wait_for(lambda: not os.path.exists(f"/proc/{old[0]}"))
    finally:
        d.stop()


def test_slow_userdb_stalls_no_other_client_and_survives_hangups(inst):
    """loft-auth's own userdb is slow for one user (another auth socket
    that takes 1.5 s): other clients are answered meanwhile, and a client
    that hangs up while its lookup runs harms nothing."""
    def behaviour(data):
        if b"slow@" in data:
            time.sleep(1.5)
        return b"VERSION\t1\t0\nSPID\t1\nUSER\t1\tx@example.com\tuid=1234\n"
    path = os.path.join(inst.root, "fake-auth")
    server = FakeAuthServer(path, behaviour)
    inst.userdb = f"""
        userdb {{
          driver = auth
          args = timeout=10s {path}
        }}"""
    d = Daemon(inst, extra=auth_conf("mode = 0600"))
    d.start()
    try:
        sock = os.path.join(inst.root, "run", "auth-userdb")
        pid = d.children("loft-auth")
        gone = AuthClient(sock)
        gone.sock.sendall(b"USER\t1\tslow@example.com\n")
        time.sleep(0.2)
        gone.close()
        slow = AuthClient(sock)
        slow.handshake()
        slow.sock.sendall(b"USER\t2\tslow@example.com\n")
        time.sleep(0.2)
        start = time.monotonic()
        fast = AuthClient(sock)
        fast.handshake()
        assert fast.ask("USER\t3\tfast@example.com")[:2] == ["USER", "3"]
        assert time.monotonic() - start < 1.0
        assert slow.line().startswith("USER\t2\t")
        time.sleep(1.5)
        assert fast.ask("USER\t4\tfast@example.com")[:2] == ["USER", "4"]
        assert d.children("loft-auth") == pid
        # a reload while a lookup runs: it is answered, then the old
        # process closes the connection
        slow.sock.sendall(b"USER\t5\tslow@example.com\n")
        time.sleep(0.2)
        r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert slow.line().startswith("USER\t5\t")
        assert slow.closed()
    finally:
        d.stop()
        server.close()


def test_service_count_finishes_its_connection_then_exits(inst):
    private_passwd(inst, ["alice@example.com::1234:1234::/home/alice"])
    d = Daemon(inst, extra="""
        mail_debug = yes
        service auth {
          service_count = 1
          unix_listener auth-userdb {
            mode = 0600
          }
        }
        """)
    d.start()
    try:
        sock = os.path.join(inst.root, "run", "auth-userdb")
        first = AuthClient(sock)
        _, s1 = first.handshake()
        # the connection that reached service_count is served to its end
        assert first.ask("USER\t1\talice@example.com")[:2] == ["USER", "1"]
        time.sleep(0.3)
        assert first.ask("USER\t2\talice@example.com")[:2] == ["USER", "2"]
        first.close()
        # then the process exits and loftd starts another for the next
        second = AuthClient(sock)
        _, s2 = second.handshake()
        assert s2[1] != s1[1]
        assert second.ask("USER\t3\talice@example.com")[:2] == ["USER", "3"]
        second.close()
        assert wait_for(lambda: not os.path.exists(f"/proc/{s1[1]}"))
    finally:
        d.stop()
