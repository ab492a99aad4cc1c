"""The quota plugin end to end: loft-lda and LMTP deliveries until a user
is over quota (Dovecot's codes and texts, the grace, quota_full_tempfail,
lmtp_rcpt_check_quota refusing at RCPT), maildirsize kept exactly as
Dovecot keeps it (checked against the files in the maildir and against
Dovecot's own `doveadm quota get` on the same maildir, both ways),
concurrent deliveries without a lost count, `loftadm quota get|recalc`,
usage in `loftadm user`, loft_quota_rejections_total, the journal reason
`quota`, and the configuration errors with FILE:LINE."""
import os
import re
import shutil
import smtplib
import subprocess
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import NOBODY, SAMPLE, binary, needs_root, wait_for
from test_loftadm import adm, ok
from test_stats import StatsDaemon

QUOTA_CONF = """
    mail_plugins = $mail_plugins quota
    plugin {
      quota = maildir:User quota
      quota_rule = *:storage=1G
      quota_rule2 = Trash:storage=+100M
      quota_rule3 = *:messages=10000
      quota_grace = 10%%
    }
    """
SMALL = "small@example.com"
REFUSED = "Quota exceeded (mailbox for user is full)"


def message(n, size=1000):
    """A message of about size bytes, numbered n."""
    body = b"x" * 70 + b"\r\n"
    return (f"From: a@example.org\r\nSubject: m{n}\r\n"
            f"Message-ID: <q{n}@example.org>\r\n\r\n").encode() + body * (size // 72)


def maildir_usage(inst, user):
    """What the maildir holds: (bytes, messages), sizes from the files."""
    total = count = 0
    root = inst.maildir(user)
    dirs = [root] + [os.path.join(root, d) for d in os.listdir(root)
                     if d.startswith(".") and os.path.isdir(os.path.join(root, d))]
    for d in dirs:
        for sub in ("new", "cur"):
            p = os.path.join(d, sub)
            for name in os.listdir(p) if os.path.isdir(p) else []:
                total += os.path.getsize(os.path.join(p, name))
                count += 1
    return total, count


def maildirsize(inst, user):
    """maildirsize as (header, [(bytes, count), ...])"""
    with open(os.path.join(inst.maildir(user), "maildirsize")) as f:
        lines = f.read().split("\n")
    assert lines[-1] == ""
    return lines[0], [tuple(int(x) for x in line.split()) for line in lines[1:-1]]


def counted(inst, user):
    header, lines = maildirsize(inst, user)
    return (sum(b for b, _ in lines), sum(c for _, c in lines))


@pytest.fixture
def qinst(inst):
    inst.add_user(SMALL, extra="userdb_quota_rule=*:storage=4k")
    inst.extra = QUOTA_CONF
    inst.write_conf(extra=QUOTA_CONF)
    return inst


@needs_root
def test_lda_until_over_quota(qinst):
    inst = qinst
    saved = 0
    # about 1054 bytes stored: three fit, the fourth crosses 4096 within
    # the grace, the fifth does not fit
    for n in range(20):
        r = inst.lda("-e", "-d", SMALL, "-f", "a@b.c", msg=message(n, 1050))
        if r.returncode != 0:
            break
        saved += 1
    # 4 KiB and a 10% grace: the delivery that crossed 4096 was allowed
    assert r.returncode == 77, r.stderr
    assert r.stderr.decode() == f"5.2.2 {REFUSED}\n"
    used, count = maildir_usage(inst, SMALL)
    assert count == saved and 4096 < used <= 4096 + 409, (used, saved)
    header, lines = maildirsize(inst, SMALL)
    assert header == "4096S,10000C"     # the userdb rule over the plugin's
    assert counted(inst, SMALL) == (used, count)
    # the refused delivery found the file over quota with many lines and
    # recounted it, as Dovecot does
    assert lines == [(used, count)]
    st = os.stat(os.path.join(inst.maildir(SMALL), "maildirsize"))
    assert st.st_uid == NOBODY.pw_uid and (st.st_mode & 0o777) == 0o600
    assert "rejected" in inst.log() or REFUSED in inst.log()
    # quota_full_tempfail: 4.2.2 and 75, nothing stored
    r = inst.lda("-e", "-d", SMALL, "-o", "quota_full_tempfail=yes", msg=message(99))
    assert r.returncode == 75 and r.stderr.decode() == f"4.2.2 {REFUSED}\n"
    assert maildir_usage(inst, SMALL) == (used, count)
    # the plugin's own message, and a mailbox rule with more room
    inst.write_conf(extra=QUOTA_CONF.replace(
        "quota_grace", "quota_rule4 = Archive:storage=+8k\n  quota_exceeded_message = Mailbox full, see https://help.example/quota\n  quota_grace"))
    r = inst.lda("-e", "-d", SMALL, msg=message(101))
    assert r.returncode == 77
    assert r.stderr.decode() == "5.2.2 Mailbox full, see https://help.example/quota\n"
    r = inst.lda("-e", "-d", SMALL, "-m", "Archive", "-o", "lda_mailbox_autocreate=yes",
                 msg=message(102))
    assert r.returncode == 0, r.stderr
    assert counted(inst, SMALL) == maildir_usage(inst, SMALL)
    # the plugin not named: no quota and no bookkeeping (as in Dovecot)
    before = maildirsize(inst, SMALL)
    inst.write_conf(extra=QUOTA_CONF.replace("$mail_plugins quota", ""))
    r = inst.lda("-d", SMALL, msg=message(100))
    assert r.returncode == 0, r.stderr
    assert maildirsize(inst, SMALL) == before


def lmtp_send(port, rcpts, msg, sender="a@example.org"):
    """One LMTP transaction: ({rcpt: (code, text)} at RCPT for refused,
    {rcpt: (code, text)} after DATA)."""
    with smtplib.LMTP("127.0.0.1", port) as s:
        s.ehlo_or_helo_if_needed()
        s.mail(sender)
        refused, accepted = {}, []
        for r in rcpts:
            code, text = s.rcpt(r)
            if code == 250:
                accepted.append(r)
            else:
                refused[r] = (code, text.decode())
        if not accepted:
            s.rset()
            return refused, {}
        s.putcmd("data")
        code, _ = s.getreply()
        assert code == 354
        s.send(msg.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
        replies = {}
        for r in accepted:
            code, text = s.getreply()
            replies[r] = (code, text.decode())
        return refused, replies


@needs_root
def test_lmtp_until_over_quota_and_rcpt_check(qinst):
    inst = qinst
    d = StatsDaemon(inst, extra=QUOTA_CONF).start()
    try:
        saved = 0
        for n in range(20):
            _, replies = lmtp_send(d.port, [SMALL, "user0@example.com"], message(n))
            assert replies["user0@example.com"][0] == 250
            code, text = replies[SMALL]
            if code != 250:
                break
            saved += 1
        assert (code, text) == (552, f"5.2.2 <{SMALL}> {REFUSED}"), (code, text)
        assert maildir_usage(inst, SMALL)[1] == saved
        assert counted(inst, SMALL) == maildir_usage(inst, SMALL)
        assert counted(inst, "user0@example.com") == maildir_usage(inst, "user0@example.com")
        assert wait_for(lambda: d.metric("loft_quota_rejections_total", result="rejected") == 1)
        assert d.metric("loft_rcpt_rejected_total", reason="quota") == 1
        entries = d.json("/api/v1/deliveries?user=" + SMALL)
        refused = [e for e in entries if e["result"] == "rejected"]
        assert len(refused) == 1 and refused[0]["reason"] == "quota"
        assert refused[0]["code"] == 552
    finally:
        d.stop()
    # a refusal at DATA may come while under quota (the message did not
    # fit); the RCPT check refuses only a user already over it
    used = maildir_usage(inst, SMALL)[0]
    if used <= 4096:
        r = inst.lda("-d", SMALL, msg=message(40, 4096 - used + 100))
        assert r.returncode == 0, r.stderr
        assert maildir_usage(inst, SMALL)[0] > 4096
    # lmtp_rcpt_check_quota: refused at RCPT, before the data
    d = StatsDaemon(inst, extra=QUOTA_CONF + "lmtp_rcpt_check_quota = yes\n").start()
    try:
        # user1 has no home yet: the check creates nothing it cannot
        assert not os.path.exists(inst.home("user1@example.com"))
        refused, replies = lmtp_send(d.port, [SMALL, "user0@example.com",
                                              "user1@example.com"], message(50))
        assert refused == {SMALL: (552, f"5.2.2 <{SMALL}> {REFUSED}")}, refused
        assert replies["user0@example.com"][0] == 250
        assert replies["user1@example.com"][0] == 250
        assert counted(inst, "user1@example.com") == maildir_usage(inst, "user1@example.com")
        # the counters outlive a restart
        assert wait_for(lambda: d.metric("loft_quota_rejections_total", result="rejected") == 2)
    finally:
        d.stop()
    d = StatsDaemon(inst, extra=QUOTA_CONF + "lmtp_rcpt_check_quota = yes\n"
                    "quota_full_tempfail = yes\n").start()
    try:
        refused, _ = lmtp_send(d.port, [SMALL], message(51))
        assert refused == {SMALL: (452, f"4.2.2 <{SMALL}> {REFUSED}")}, refused
        assert wait_for(lambda: d.metric("loft_quota_rejections_total", result="tempfail") == 1)
    finally:
        d.stop()


@needs_root
def test_concurrent_deliveries_lose_no_count(qinst):
    inst = qinst
    user = "user1@example.com"
    d = StatsDaemon(inst, extra=QUOTA_CONF + "lmtp_user_concurrency_limit = 0\n").start()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(
                lambda n: lmtp_send(d.port, [user], message(n, 500 + n))[1][user][0],
                range(60)))
        assert results == [250] * 60
        # and LDA processes at the same time as LMTP
        with ThreadPoolExecutor(max_workers=6) as pool:
            futs = [pool.submit(lmtp_send, d.port, [user], message(100 + n)) for n in range(15)]
            codes = [r.returncode for r in pool.map(
                lambda n: inst.lda("-d", user, msg=message(200 + n)), range(15))]
            assert [f.result()[1][user][0] for f in futs] == [250] * 15
        assert codes == [0] * 15
    finally:
        d.stop()
    used, count = maildir_usage(inst, user)
    assert count == 90
    assert counted(inst, user) == (used, count)
    out = ok(adm(inst, "quota", "get", user, fmt="tab"))
    assert out.splitlines()[1:] == [
        f"User quota\tSTORAGE\t{(used + 1023) // 1024}\t1048576\t0",
        f"User quota\tMESSAGE\t{count}\t10000\t0"], out


def doveadm(inst, home_user, *args):
    """Dovecot's doveadm on the same maildir, as the mail user, with a
    private config carrying the same quota settings."""
    conf = os.path.join(inst.root, "dovecot.conf")
    maildir = inst.maildir(home_user)
    with open(conf, "w") as f:
        f.write(textwrap.dedent(f"""\
            base_dir = {inst.root}/dovecot-run
            log_path = {inst.root}/dovecot.log
            mail_location = maildir:{maildir}
            mail_uid = {NOBODY.pw_uid}
            mail_gid = {NOBODY.pw_gid}
            first_valid_uid = 1
            ssl = no
            protocols =
            """) + textwrap.dedent(QUOTA_CONF))
    env = dict(os.environ, HOME=inst.home(home_user), USER=NOBODY.pw_name)
    return subprocess.run(["doveadm", "-c", conf] + list(args), capture_output=True,
                          text=True, env=env, timeout=60)


def rows(tab):
    """The data lines of a tab-format answer (loftadm's tab header has
    the field keys, doveadm's the titles)."""
    lines = tab.splitlines()
    assert len(lines) == 3, tab
    return lines[1:]


@needs_root
@pytest.mark.skipif(shutil.which("doveadm") is None, reason="needs doveadm (dovecot-core)")
def test_doveadm_agrees(qinst):
    inst = qinst
    user = "user0@example.com"
    for n in range(7):
        assert inst.lda("-d", user, msg=message(n, 3000 + n)).returncode == 0
    assert inst.lda("-d", user, "-m", "Trash", "-o", "lda_mailbox_autocreate=yes",
                    msg=message(8)).returncode == 0
    r = doveadm(inst, user, "-f", "tab", "quota", "get")
    assert r.returncode == 0, r.stderr
    assert rows(r.stdout) == rows(ok(adm(inst, "quota", "get", user, fmt="tab")))
    # the table: doveadm's columns
    table = ok(adm(inst, "quota", "get", user))
    assert re.match(r"^Quota name\s+Type\s+Value\s+Limit\s+%\n", table), table
    # Dovecot recounts and writes; loft appends to its file and agrees
    os.unlink(os.path.join(inst.maildir(user), "maildirsize"))
    r = doveadm(inst, user, "quota", "recalc")
    assert r.returncode == 0, r.stderr
    header, lines = maildirsize(inst, user)
    assert header == "1073741824S,10000C" and len(lines) == 1
    assert inst.lda("-d", user, msg=message(9)).returncode == 0
    header, lines = maildirsize(inst, user)
    assert len(lines) == 2 and counted(inst, user) == maildir_usage(inst, user)
    r = doveadm(inst, user, "-f", "tab", "quota", "get")
    assert rows(r.stdout) == rows(ok(adm(inst, "quota", "get", user, fmt="tab")))
    # loft recounts and Dovecot reads it
    ok(adm(inst, "quota", "recalc", user))
    header, lines = maildirsize(inst, user)
    assert len(lines) == 1 and lines[0] == maildir_usage(inst, user)
    r = doveadm(inst, user, "-f", "tab", "quota", "get")
    assert rows(r.stdout) == rows(ok(adm(inst, "quota", "get", user, fmt="tab")))


@needs_root
def test_loftadm_quota_and_user(qinst):
    inst = qinst
    assert inst.lda("-d", SMALL, msg=message(1)).returncode == 0
    used, count = maildir_usage(inst, SMALL)
    out = ok(adm(inst, "quota", "get", SMALL, fmt="tab"))
    assert out == ("root\ttype\tvalue\tlimit\tpercent\n"
                   f"User quota\tSTORAGE\t{(used + 1023) // 1024}\t4\t{(used + 1023) // 1024 * 100 // 4}\n"
                   f"User quota\tMESSAGE\t{count}\t10000\t0\n"), out
    import json
    doc = json.loads(ok(adm(inst, "user", SMALL, fmt="json")))
    assert doc["quota"] == {"root": "User quota", "storage_kb": (used + 1023) // 1024,
                            "storage_limit_kb": 4, "messages": count,
                            "messages_limit": 10000}, doc
    # mail arriving behind loft's back (a 1-byte file)
    with open(os.path.join(inst.maildir(SMALL), "cur", "2.M2P2.h,S=1,W=1:2,S"), "w") as f:
        f.write("x")
    # a delivery does not rescan the maildir: the file only gains its line
    assert inst.lda("-d", SMALL, msg=message(2)).returncode == 0
    used2, count2 = maildir_usage(inst, SMALL)
    assert counted(inst, SMALL) == (used2 - 1, count2 - 1)
    ok(adm(inst, "quota", "recalc", SMALL))
    assert maildirsize(inst, SMALL)[1] == [(used2, count2)]
    st = os.stat(os.path.join(inst.maildir(SMALL), "maildirsize"))
    assert st.st_uid == NOBODY.pw_uid
    # no quota: doveadm's "Quota not enabled", exit 68; unknown user 67
    inst.write_conf(extra="")
    r = adm(inst, "quota", "get", SMALL)
    assert r.returncode == 68 and "Quota not enabled" in r.stderr
    assert json.loads(ok(adm(inst, "user", SMALL, fmt="json")))["quota"] is None
    assert adm(inst, "quota", "get", "nobody@example.com").returncode == 67


def test_config_errors_name_the_line(inst):
    for body, line, text in (
            ("plugin {\n  quota = count:User quota\n}\n", 2,
             "quota backend count is not implemented by loft"),
            ("plugin {\n  quota = maildir\n  quota_rule = *:storage=1Q\n}\n", 3,
             "Invalid rule *:storage=1Q"),
            ("plugin {\n  quota = maildir\n  quota_warning = storage=95%% x 95\n}\n", 3,
             "quota_warning is not implemented by loft")):
        path = os.path.join(inst.root, "bad.conf")
        with open(path, "w") as f:
            f.write(body)
        r = subprocess.run([binary("loftd"), "-c", path, "--check"], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 1, r
        assert r.stderr.startswith(f"{path}:{line}: {text}"), r.stderr


@needs_root
def test_mbox_user_is_delivered_with_a_warning(qinst):
    inst = qinst
    inst.add_user("mboxer@example.com", extra="userdb_mail=mbox:~/mail:INBOX=~/inbox "
                  "userdb_quota_rule=*:storage=1")
    r = inst.lda("-d", "mboxer@example.com", msg=message(1))
    assert r.returncode == 0, r.stderr
    assert "is not Maildir, skipping for Maildir++ quota" in inst.log("loft.log")
