"""The disk journal end to end: deliveries over LMTP to a loftd are found
by `loftadm deliveries` and GET /api/v1/deliveries after loft-stats is
killed with SIGKILL (loftd restarts it) and after a full loftd stop and
start; state_dir is created 0750 for the internal user with the journal
0600 in it; --until/until= filter; and a journal disk that is full (a
tiny tmpfs) does not stop mail: every delivery still gets 250, and the
loss shows in loft_journal_*_total and /api/v1/errors."""
import json
import os
import pwd
import signal
import smtplib
import subprocess
import time
import urllib.parse

import pytest

from conftest import needs_root, wait_for
from test_loftadm import adm, ok
from test_stats import StatsDaemon


def message(msgid):
    return (b"From: Sender <sender@example.org>\r\n"
            b"To: user0@example.com\r\n"
            b"Subject: journal test\r\n"
            b"Message-ID: <" + msgid.encode() + b">\r\n"
            b"\r\n"
            b"body\r\n")


def deliver(d, msgid, rcpts=("user0@example.com", "user1@example.com")):
    """One transaction; every recipient must get 250 after DATA."""
    with smtplib.LMTP("127.0.0.1", d.port) as s:
        s.ehlo("t")
        s.mail("sender@example.org")
        for r in rcpts:
            assert s.rcpt(r)[0] == 250
        code, _ = s.data(message(msgid))
        assert code == 250
        for _ in rcpts[1:]:
            assert s.getreply()[0] == 250


def by_loftadm(inst, msgid):
    return json.loads(ok(adm(inst, "deliveries", "--msgid", msgid, fmt="json")))


def by_http(sd, msgid):
    return sd.json("/api/v1/deliveries?msgid=" + urllib.parse.quote(msgid))


def all_found(sd, inst, msgids, per_msgid=2):
    for m in msgids:
        for rows in (by_loftadm(inst, m), by_http(sd, m)):
            assert len(rows) == per_msgid, (m, rows)
            assert {r["user"] for r in rows} == {"user0@example.com", "user1@example.com"}
            assert all(r["result"] == "saved" and r["msgid"] == f"<{m}>" for r in rows)


def written(sd):
    return sd.metric("loft_journal_written_total") or 0


@pytest.fixture
def sd(inst):
    d = StatsDaemon(inst)
    yield d
    d.stop()
    subprocess.run(["umount", os.path.join(inst.root, "state")], capture_output=True)


@needs_root
def test_survives_kill_and_restart(sd, inst):
    sd.start()
    state = os.path.join(inst.root, "state")
    st = os.stat(state)
    nobody = pwd.getpwnam("nobody")
    assert (st.st_mode & 0o777, st.st_uid) == (0o750, nobody.pw_uid)
    journal = os.path.join(state, "journal.db")
    assert wait_for(lambda: os.path.exists(journal))
    assert os.stat(journal).st_mode & 0o777 == 0o600
    assert "delivery journal: " + journal in inst.log("loft-info.log")

    first = [f"kill-{i}@example.org" for i in range(20)]
    for m in first:
        deliver(sd, m)
    # acknowledged and on disk (2 rows each), then loft-stats dies hard
    assert wait_for(lambda: written(sd) >= 40, timeout=10), written(sd)
    old = sd.stats_pid()
    os.kill(old, signal.SIGKILL)
    assert wait_for(lambda: sd.stats_pid() not in (None, old), timeout=20)
    assert wait_for(lambda: sd.get("/healthz")[0] == 200, timeout=20)
    all_found(sd, inst, first)

    second = [f"restart-{i}@example.org" for i in range(20)]
    for m in second:
        deliver(sd, m)
    # a clean stop writes what is queued: no wait before it
    sd.stop()
    sd.start()
    all_found(sd, inst, first + second)
    # every one of them, newest first, from disk
    rows = json.loads(ok(adm(inst, "deliveries", "--user", "user0*", "--limit", "1000",
                             fmt="json")))
    assert [r["msgid"] for r in rows] == [f"<{m}>" for m in reversed(first + second)]
    # until: nothing is an hour old; everything is older than 0 s
    assert json.loads(ok(adm(inst, "deliveries", "--until", "1h", fmt="json"))) == []
    assert len(sd.json("/api/v1/deliveries?until=0&limit=1000")) == 80
    assert sd.json("/api/v1/deliveries?until=1h") == []
    assert sd.get("/api/v1/deliveries?until=soon")[0] == 400
    assert adm(inst, "deliveries", "--until", "soon").returncode == 64
    assert (sd.metric("loft_journal_dropped_total") or 0) == 0
    assert (sd.metric("loft_journal_write_failures_total") or 0) == 0


@needs_root
def test_full_disk_does_not_stop_mail(sd, inst):
    state = os.path.join(inst.root, "state")
    os.makedirs(state, mode=0o750)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0750", "tmpfs", state],
                   check=True)
    nobody = pwd.getpwnam("nobody")
    os.chown(state, nobody.pw_uid, nobody.pw_gid)
    # fill it to the last block, so even the journal's first pages fail
    fd = os.open(os.path.join(state, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"x" * 1024)
    except OSError:
        pass
    os.close(fd)
    sd.start()
    t0 = time.time()
    for i in range(30):
        deliver(sd, f"full-{i}@example.org")
    assert time.time() - t0 < 30
    assert wait_for(lambda: len(inst.new_files("user0@example.com")) == 30)
    assert wait_for(lambda: (sd.metric("loft_journal_write_failures_total") or 0) >= 1, timeout=10)
    assert wait_for(lambda: (sd.metric("loft_journal_dropped_total") or 0) >= 1, timeout=10)

    def journal_errors():
        return [e for e in sd.json("/api/v1/errors?limit=1000")
                if "delivery journal" in e["msg"]]
    assert wait_for(journal_errors, timeout=10)
    assert "journal.db" in journal_errors()[0]["msg"]
    # the recent ones are still answered, from memory (once reported:
    # services send their events in 25 ms batches)
    assert wait_for(lambda: len(by_http(sd, "full-29@example.org")) == 2)
    assert len(by_loftadm(inst, "full-29@example.org")) == 2


@needs_root
def test_max_age_is_honoured(inst):
    """stats_journal_max_age: deliveries older than it leave the disk
    journal (at the latest at the next start of loft-stats); newer ones
    stay."""
    d = StatsDaemon(inst, extra="stats_journal_max_age = 2s\n")
    d.start()
    try:
        assert "max age 2 s" in inst.log("loft-info.log")
        deliver(d, "old@example.org")
        assert wait_for(lambda: written(d) >= 2, timeout=10)
        d.stop()
        time.sleep(2.5)
        d.start()
        deliver(d, "new@example.org")
        assert wait_for(lambda: len(by_http(d, "new@example.org")) == 2)
        assert by_http(d, "old@example.org") == []
        assert by_loftadm(inst, "old@example.org") == []
        assert len(by_loftadm(inst, "new@example.org")) == 2
    finally:
        d.stop()
