"""Issue 10, trust boundaries of loft-stats: every attack a local user
could make through the 0666 stats-writer socket, performed for real as
`nobody` (stats_attack.py speaking the real framing), and what it no
longer achieves; and accept loops that run out of file descriptors
(loft-stats, loft-lmtp) backing off instead of spinning and flooding
the log."""
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

import loftwire as w
from conftest import NOBODY, SAMPLE, binary, needs_root, wait_for
from test_lmtp import MSG, Raw
from test_stats import StatsDaemon, deliver

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def sd(inst):
    d = StatsDaemon(inst)
    yield d
    d.stop()


class Attacker:
    """stats_attack.py MODE ... run as nobody; JSON lines from stdout"""

    def __init__(self, inst, *args):
        folder = os.path.join(inst.root, "attack")
        os.makedirs(folder, exist_ok=True)
        os.chmod(folder, 0o755)
        for name in ("stats_attack.py", "loftwire.py"):
            shutil.copy(os.path.join(HERE, name), folder)
        self.proc = subprocess.Popen(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
             "/usr/bin/python3", os.path.join(folder, "stats_attack.py"), args[0],
             stats_writer(inst)] + [str(a) for a in args[1:]],
            stdout=subprocess.PIPE, text=True, cwd=folder)

    def next(self, timeout=15):
        import select
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, "no output from the attack script"
        line = self.proc.stdout.readline()
        assert line, f"attack script ended: {self.proc.wait()}"
        return json.loads(line)

    def events(self, timeout):
        """the JSON lines printed within timeout seconds"""
        import select
        got, deadline = [], time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if not ready:
                return got
            line = self.proc.stdout.readline()
            if not line:
                return got
            got.append(json.loads(line))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)


def stats_writer(inst):
    return os.path.join(inst.root, "run", "stats-writer")


def log_lines(inst):
    return len(inst.log("loft.log").splitlines())


def cpu_secs(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def sanitized():
    out = subprocess.run([binary("loftd"), "--version"], capture_output=True, text=True)
    return "asan" in out.stdout + out.stderr


def rcpt(d, user):
    c = Raw(("127.0.0.1", d.port))
    c.reply()
    c.cmd("MAIL FROM:<a@b.c>")
    return c, c.cmd(f"RCPT TO:<{user}>")


@needs_root
def test_nobody_cannot_block_a_users_deliveries(sd, inst):
    """Point 3: slots taken under made-up session ids blocked every RCPT
    to the user with 451 for as long as loft-stats ran."""
    sd.start()
    a = Attacker(inst, "slots", "user0@example.com", 10)
    try:
        got = a.next()
        # a local user is not one of loftd's services: no slot for it
        assert got["allowed"] == 0, got
        c, reply = rcpt(sd, "user0@example.com")
        assert reply == ["250 2.1.5 OK"], reply
    finally:
        a.stop()
    c2, reply = rcpt(sd, "user0@example.com")
    assert reply == ["250 2.1.5 OK"], reply
    # the real limit still holds between real sessions
    assert c.cmd("DATA") == ["354 OK"]
    c.send(MSG + b".\r\n")
    assert c.line().endswith(" Saved")


@needs_root
def test_slots_of_a_killed_service_process_are_released(inst):
    """Point 3, the other half: a slot belongs to the connection that took
    it, so a loft-lmtp killed mid-transaction (its connection to
    loft-stats gone) holds the user's slot no longer."""
    import signal
    sd = StatsDaemon(inst, extra="lmtp_user_concurrency_limit = 1\n")
    sd.start()
    try:
        c, reply = rcpt(sd, "user0@example.com")
        assert reply == ["250 2.1.5 OK"]
        c2, reply = rcpt(sd, "user0@example.com")
        assert reply[0].startswith("451 4.3.0 "), reply
        c2.close()
        [pid] = sd.children("loft-lmtp")
        os.kill(pid, signal.SIGKILL)
        assert c.closed()
        assert wait_for(lambda: sd.children("loft-lmtp") not in ([], [pid]), timeout=20)

        def free():
            try:
                c3, reply = rcpt(sd, "user0@example.com")
            except OSError:
                return False
            c3.close()
            return reply == ["250 2.1.5 OK"]
        assert wait_for(free, timeout=10)
    finally:
        sd.stop()


@needs_root
def test_nobody_cannot_be_the_master(sd, inst):
    """Point 4: the first peer that said it was loftd became the master:
    it got the reloads (the admin was told ok, loftd never reloaded) and
    made /healthz 503 with a service table of its own."""
    sd.start()
    a = Attacker(inst, "master")
    try:
        assert a.next()["ready"]
        assert {"event": "closed", "commands": 0} in a.events(2)
        assert sd.get("/healthz")[0] == 200
        names = [s["name"] for s in sd.json("/api/v1/services")["services"]]
        assert "lmtp" in names
        before = inst.log("loft-info.log").count("config reloaded")
        status, body = sd.post("/api/v1/reload")
        assert status == 200 and body == {"ok": True}, body
        assert wait_for(lambda: inst.log("loft-info.log").count("config reloaded") > before)
    finally:
        a.stop()
    assert "claims to be loftd" in inst.log("loft.log")


@needs_root
def test_nobody_cannot_take_over_or_kick_a_session(sd, inst):
    """Point 4: a peer that started a session with a real session id took
    it over, so kick reported success without kicking."""
    sd.start()
    c, reply = rcpt(sd, "user0@example.com")
    assert reply == ["250 2.1.5 OK"]

    def held():
        return [s for s in sd.json("/api/v1/who?per_session=1")
                if s["user"] == "user0@example.com"]
    assert wait_for(lambda: held())
    real = held()[0]
    a = Attacker(inst, "takeover", real["session"])
    try:
        assert a.next()["ready"]
        time.sleep(0.5)
        now = [s for s in sd.json("/api/v1/who?per_session=1")
               if s["session"] == real["session"]]
        assert len(now) == 1 and now[0]["pid"] == real["pid"], now
        assert now[0]["user"] == "user0@example.com"
        status, body = sd.post("/api/v1/kick", {"session": real["session"]})
        assert status == 200 and body["count"] == 1
        assert c.line() == "421 4.3.2 testhost Session terminated by administrator"
        assert not [e for e in a.events(1) if e.get("event") == "kick"]
    finally:
        a.stop()
    # loftd's own processes were never taken for intruders
    assert "(uid 0 " not in inst.log("loft.log")


@needs_root
def test_a_local_user_reports_only_as_itself(sd, inst):
    """Point 4: fake LMTP sessions, deliveries and errors of any pid were
    taken as they came; now they are loft-lda's, under the real pid."""
    sd.start()
    a = Attacker(inst, "inject")
    try:
        pid = a.next()["pid"]

        def fake():
            return [s for s in sd.json("/api/v1/who?per_session=1")
                    if s["session"] == "FAKEFAKEFAKEFAKEFAKE01"]
        assert wait_for(lambda: fake())
        assert fake()[0]["service"] == "lda" and fake()[0]["pid"] == pid
        # the delivery is the frame after the session's: wait for it too
        assert wait_for(lambda: sd.json("/api/v1/deliveries?session=FAKEFAKEFAKEFAKEFAKE01"))
        recs = sd.json("/api/v1/deliveries?session=FAKEFAKEFAKEFAKEFAKE01")
        assert recs and all(r["service"] == "lda" and r["pid"] == pid and
                            r["uid"] == NOBODY.pw_uid for r in recs), recs
        assert not sd.metric("loft_deliveries_total", protocol="lmtp", result="saved")
        errs = [e for e in sd.json("/api/v1/errors") if "injected" in e["msg"]]
        assert errs and errs[0]["service"] == "lda" and errs[0]["pid"] == pid, errs
    finally:
        a.stop()
    # and it took its session with it
    assert wait_for(lambda: not [s for s in sd.json("/api/v1/who?per_session=1")
                                 if s["session"].startswith("FAKE")])


@needs_root
def test_a_flood_is_bounded_in_memory_and_log(sd, inst):
    """Point 4: a flood grew loft-stats from 5 to 135 MB and wrote a log
    line per bad frame."""
    sd.start()
    pid = sd.stats_pid()
    rss, lines = rss_kib(pid), log_lines(inst)
    a = Attacker(inst, "flood", 6)
    try:
        got = a.next(timeout=30)
        assert got["connections"] > 50, got
    finally:
        a.stop()
    grown_mib = (rss_kib(pid) - rss) / 1024
    new_lines = log_lines(inst) - lines
    # ASan keeps freed memory in quarantine (256 MiB): RSS says nothing
    if not sanitized():
        assert grown_mib < 25, f"loft-stats grew {grown_mib:.0f} MiB"
    assert new_lines <= 5, inst.log("loft.log").splitlines()[lines:][:20]
    assert sd.stats_pid() == pid and sd.get("/healthz")[0] == 200
    # no leftovers of the flood in the session table
    assert not [s for s in sd.json("/api/v1/who?per_session=1")
                if s["session"].startswith("flood")]
    deliver(sd, ["user0@example.com"])
    assert wait_for(lambda: sd.metric("loft_deliveries_total", protocol="lmtp",
                                      result="saved") == 1)


@needs_root
def test_held_partial_frames_are_bounded(sd, inst):
    """Point 4, per-peer memory: 128 connections of nobody (its limit),
    each holding all but a byte of a 1 MiB frame, grew loft-stats past
    default_vsz_limit (256M) and it aborted at once, again after each
    restart. A peer of a uid other than 0 may send frames of 64 KiB
    until it is proven a service: the big ones are refused by their
    length, and 128 small ones hold a few MiB."""
    sd.start()
    pid = sd.stats_pid()
    rss = rss_kib(pid)
    for size in (1024 * 1024, 64 * 1024):
        a = Attacker(inst, "partial", 128, size)
        try:
            assert a.next(timeout=60)["opened"] > 0
            time.sleep(0.5)
            assert sd.stats_pid() == pid, inst.log("loft.log")
            grown_mib = (rss_kib(pid) - rss) / 1024
            if not sanitized():
                assert grown_mib < 40, f"loft-stats grew {grown_mib:.0f} MiB"
            assert sd.get("/healthz")[0] == 200
        finally:
            a.stop()
    assert "frame length 1048576 out of range (1..65536)" in inst.log("loft.log")
    assert "out of memory" not in inst.log("loft.log")
    deliver(sd, ["user0@example.com"])
    assert wait_for(lambda: sd.metric("loft_deliveries_total", protocol="lmtp",
                                      result="saved") == 1)


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def set_nofile(pid, limit):
    """prlimit as the process's own user: root may lack CAP_SYS_RESOURCE
    (a container), and a process may always lower its user's limits"""
    with open(f"/proc/{pid}/status") as f:
        uid = next(line.split()[1] for line in f if line.startswith("Uid:"))
    cmd = ["prlimit", f"--pid={pid}", f"--nofile={limit}:{limit}"]
    if uid != "0":
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] + cmd
    subprocess.run(cmd, check=True)


def assert_quiet_while(pid, inst, secs=3):
    """the process uses little CPU and logs a few lines over secs"""
    lines, cpu, t0 = log_lines(inst), cpu_secs(pid), time.monotonic()
    time.sleep(secs)
    ratio = (cpu_secs(pid) - cpu) / (time.monotonic() - t0)
    new = log_lines(inst) - lines
    assert ratio < 0.3, (f"{ratio:.0%} CPU while out of file descriptors",
                         inst.log("loft.log").splitlines()[-5:])
    assert new <= 4, inst.log("loft.log").splitlines()[lines:][:10]


@needs_root
def test_stats_out_of_fds_backs_off(sd, inst):
    """Point 5: with EMFILE on accept() loft-stats spun at 100% CPU and
    logged one error per attempt (6.8 GB in 10 minutes); any local user
    could cause it through the 0666 socket."""
    sd.start()
    pid = sd.stats_pid()
    set_nofile(pid, open_fds(pid) + 8)
    a = Attacker(inst, "conns", 40)
    try:
        assert a.next()["opened"] == 40
        time.sleep(0.5)
        assert_quiet_while(pid, inst)
        assert "Too many open files" in inst.log("loft.log")
    finally:
        a.stop()
    # fds free again: a new reporter is answered
    def answered():
        try:
            c = w.Conn(stats_writer(inst), timeout=1)
            c.send(w.hello(w.ROLE_LDA, "lda", 1))
            m = c.recv(timeout=1)
            c.close()
            return m is not None and m[0] == w.HELLO
        except OSError:
            return False
    assert wait_for(answered, timeout=10)
    assert sd.stats_pid() == pid


@needs_root
def test_lmtp_out_of_fds_backs_off(sd, inst):
    """Point 5: the same in loft-lmtp (110 MB of errors.log in 12 s)."""
    sd.start()
    [pid] = sd.children("loft-lmtp")
    set_nofile(pid, open_fds(pid) + 6)
    clients = []
    try:
        for _ in range(30):
            clients.append(socket.create_connection(("127.0.0.1", sd.port), timeout=5))
        time.sleep(0.5)
        assert_quiet_while(pid, inst)
        assert "Too many open files" in inst.log("loft.log")
    finally:
        for s in clients:
            s.close()
    assert wait_for(sd.connectable, timeout=10)
    deliver(sd, ["user0@example.com"])
    assert wait_for(lambda: len(inst.new_files("user0@example.com")) == 1)


def nofile_limits(pid):
    """(soft, hard) RLIMIT_NOFILE of pid"""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                soft, hard = line.split()[3:5]
                return int(soft), int(hard)
    raise AssertionError(f"no open files limit for {pid}")


@needs_root
def test_nofile_is_raised_for_client_limit_or_said(inst):
    """Point 5: loft-lmtp raises RLIMIT_NOFILE at start-up to what
    client_limit needs (client_limit + 64), and when the hard limit it
    inherits is too low and it may not raise it (no CAP_SYS_RESOURCE) it
    takes all of it and says what to change."""
    from conftest import Daemon
    import resource

    def limit(soft, hard):
        return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    d = Daemon(inst, service_extra="client_limit = 1000")
    d.start(preexec_fn=limit(256, 4096))
    try:
        [pid] = d.children("loft-lmtp")
        assert nofile_limits(pid) == (1064, 4096)
    finally:
        d.stop()
    assert "RLIMIT_NOFILE" not in inst.log("loft.log")
    d.start(wrap=["setpriv", "--bounding-set=-sys_resource", "--inh-caps=-sys_resource"],
            preexec_fn=limit(256, 512))
    try:
        [pid] = d.children("loft-lmtp")
        assert nofile_limits(pid) == (512, 512)
        assert wait_for(lambda: "RLIMIT_NOFILE is 512, client_limit=1000 needs 1064: "
                        "raising it failed" in inst.log("loft.log")), inst.log("loft.log")
        assert "ulimit -Hn, LimitNOFILE=" in inst.log("loft.log")
        # and it serves
        deliver(d, ["user0@example.com"])
    finally:
        d.stop()


def forge(inst, uid, user):
    """one stats_attack.py forge run as nobody: its JSON line"""
    a = Attacker(inst, "forge", uid, user)
    try:
        return a.next()
    finally:
        a.stop()


def journal(sd, session):
    return sd.json(f"/api/v1/deliveries?session={session}")


@needs_root
def test_a_local_user_reports_deliveries_of_its_own_uid_only(sd, inst):
    """Issue 10 point 4, issue 11 point 4: a user's loft-lda may report
    the deliveries of its uid only. nobody claiming a delivery stored as
    another uid (root's, 1000) is refused, counted and logged once; what
    it may report carries its uid (also when it says none), so a fake
    "alice" delivery shows uid 65534; loft-lda run by a user for itself is
    recorded with that uid, a root one with the user's, LMTP's with the
    mail's owner."""
    from test_loftadm import adm, ok
    owned = os.path.join(inst.root, "home-4242")
    os.mkdir(owned)
    os.chown(owned, 4242, 4242)
    inst.add_user("owned@example.com", uid=4242, gid=4242, home=owned)
    sd.start()
    os.chmod(inst.conf, 0o644)
    os.chmod(inst.passwd, 0o644)
    nobody = NOBODY.pw_uid
    before = sd.metric("loft_stats_events_dropped_total") or 0
    # another uid: the peer is dropped, nothing kept
    for claim in (0, 1000):
        got = forge(inst, claim, "alice@example.com")
        assert got["closed"], got
        assert journal(sd, got["session"]) == []
    assert sd.metric("loft_stats_events_dropped_total") == before + 2
    assert not sd.metric("loft_deliveries_total", protocol="lda", result="saved")
    # logged, once per interval for the uid
    assert wait_for(lambda: "reported a delivery of another uid" in inst.log("loft.log"))
    log = inst.log("loft.log")
    assert f"uid {nobody} " in log
    assert log.count("reported a delivery of another uid") == 1, log
    # its own uid, or none: taken, and the record says who made it
    for claim in (nobody, "none"):
        got = forge(inst, claim, "alice@example.com")
        assert not got["closed"], got
        assert wait_for(lambda: journal(sd, got["session"]))
        rec, = journal(sd, got["session"])
        assert (rec["user"], rec["service"], rec["pid"], rec["uid"]) == \
            ("alice@example.com", "lda", got["pid"], nobody), rec
    # a real loft-lda run by nobody (not setuid) for itself
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        binary("loft-lda"), "-c", inst.conf, "-d", "user0@example.com"],
                       input=SAMPLE, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # root's loft-lda for a user of uid 4242, and LMTP
    assert inst.lda("-d", "owned@example.com").returncode == 0
    assert deliver(sd, ["user1@example.com"]) == ["user1@example.com"]

    def saved(user):
        return [d for d in sd.json(f"/api/v1/deliveries?user={user}")
                if d["result"] == "saved"]
    assert wait_for(lambda: saved("user0@example.com") and saved("owned@example.com")
                    and saved("user1@example.com"))
    assert [(d["service"], d["uid"]) for d in saved("user0@example.com")] == [("lda", nobody)]
    assert [(d["service"], d["uid"]) for d in saved("owned@example.com")] == [("lda", 4242)]
    assert [(d["service"], d["uid"]) for d in saved("user1@example.com")] == [("lmtp", nobody)]
    # nobody's two reports, its loft-lda and root's
    assert sd.metric("loft_deliveries_total", protocol="lda", result="saved") == 4
    # loftadm deliveries -f json says it too, from the disk journal
    recs = json.loads(ok(adm(inst, "deliveries", "--user", "alice@example.com", fmt="json")))
    assert [r["uid"] for r in recs] == [nobody, nobody], recs
