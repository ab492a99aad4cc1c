"""Trust boundaries, attacked through the real interfaces: recipient
addresses that try to choose a path outside the mail root or the userdb
file that is read (LMTP and loft-lda -d), a passwd-file planted by a local
user, and supplementary groups outside first_valid_gid..last_valid_gid."""
import grp
import os
import shutil
import subprocess
import tempfile

from conftest import NOBODY, SAMPLE, Daemon, binary, needs_root, wait_for
from test_faults import one_message
from test_lmtp import Raw

pytestmark = needs_root

# each tries to put the mailbox (or the userdb file) under /tmp
HOSTILE = ['"x/../../../../{tmp}/a"@example.com',
           'y@[a:/../../../../{tmp}/b]',
           '"a@../../../../{tmp}/c"@example.com']


def static_userdb(inst):
    return f"""
        userdb {{
          driver = static
          args = uid={NOBODY.pw_uid} gid={NOBODY.pw_gid} allow_all_users=yes
        }}"""


def rcpt_replies(d, rcpts):
    c = Raw(("127.0.0.1", d.port))
    c.reply()
    c.cmd("LHLO attacker")
    c.cmd("MAIL FROM:<attacker@example.org>")
    replies = [c.cmd(f"RCPT TO:<{r}>")[0] for r in rcpts]
    c.close()
    return replies


def outside(tmp):
    """what the attacks created under tmp"""
    return sorted(os.listdir(tmp))


def test_hostile_addresses_choose_no_path(inst):
    """Dovecot's auth_username_chars refuses them before any lookup; with
    the check switched off (auth_username_chars =) the path expansion
    still refuses them. Refused names are 550 5.1.1 and logged."""
    tmp = tempfile.mkdtemp(prefix="loft-attack-", dir="/tmp")
    os.chmod(tmp, 0o777)
    rcpts = [h.format(tmp=tmp.lstrip("/")) for h in HOSTILE]
    for chars in ("", "auth_username_chars =\n"):
        inst.userdb = static_userdb(inst)
        d = Daemon(inst, extra=chars)
        d.start()
        try:
            replies = rcpt_replies(d, rcpts + ["user0@example.com"])
        finally:
            d.stop()
        for r, reply in zip(rcpts, replies):
            assert reply == f"550 5.1.1 <{r}> User doesn't exist: {r}", (chars, reply)
        assert replies[-1] == "250 2.1.5 OK"
        assert outside(tmp) == []
        want = "auth_username_chars" if chars == "" else \
            "refused: a user name that goes into a path"
        assert wait_for(lambda: want in inst.log()), inst.log()
    # loft-lda -d: the same names are unknown users (67), nothing written
    for r in rcpts:
        res = inst.lda("-d", r.replace('"', ''))
        assert res.returncode == 67, (r, res.stderr)
    assert outside(tmp) == []


def test_address_chooses_no_userdb_file_and_planted_files_are_refused(inst):
    domains = os.path.join(inst.root, "domains")
    os.makedirs(os.path.join(domains, "example.com"))
    with open(os.path.join(domains, "example.com", "passwd"), "w") as f:
        f.write(f"user0::{NOBODY.pw_uid}:{NOBODY.pw_gid}::{inst.vmail}/example.com/user0::\n")
    # a local user's own passwd-file, naming a home it chose
    planted_dir = os.path.join(domains, "planted.example")
    os.makedirs(planted_dir)
    planted = os.path.join(planted_dir, "passwd")
    with open(planted, "w") as f:
        f.write(f"evil::{NOBODY.pw_uid}:{NOBODY.pw_gid}::{inst.root}/evil-home::\n")
    os.chown(planted, NOBODY.pw_uid, NOBODY.pw_gid)
    inst.userdb = f"""
        userdb {{
          driver = passwd-file
          args = username_format=%n {domains}/%d/passwd
        }}"""
    d = Daemon(inst)
    d.start()
    try:
        traversal = '"x@../planted.example"@example.com'
        replies = rcpt_replies(d, ["user0@example.com", traversal, "evil@planted.example"])
        assert replies[0] == "250 2.1.5 OK"
        assert replies[1].startswith("550 5.1.1 ")
        # owned by nobody: not trusted, a temporary failure until fixed
        assert replies[2] == "451 4.3.0 <evil@planted.example> Temporary user lookup failure"
        assert wait_for(lambda: "is owned by uid %d: not trusted" % NOBODY.pw_uid
                        in inst.log("loft.log"))
        os.chown(planted, 0, 0)
        os.chmod(planted, 0o646)
        assert rcpt_replies(d, ["evil@planted.example"])[0].startswith("451 ")
        assert wait_for(lambda: "is writable by everyone (mode 0646): not trusted"
                        in inst.log("loft.log"))
        os.chmod(planted, 0o644)
        assert rcpt_replies(d, ["evil@planted.example"]) == ["250 2.1.5 OK"]
    finally:
        d.stop()
    assert not os.path.exists(os.path.join(inst.root, "evil-home"))


def test_ids_outside_the_valid_ranges_get_no_mail_access(inst):
    """A userdb (or a planted file that slipped through) that names a uid
    or gid outside first_valid_uid..last_valid_uid and
    first_valid_gid..last_valid_gid, or root, gets no mailbox written
    with it: loft-lda exits 75, LMTP answers 451 after DATA, and nothing
    is created. The same ids inside the ranges deliver."""
    homes = os.path.join(inst.root, "homes")
    os.makedirs(homes)
    os.chmod(homes, 0o1777)
    ranges = ("first_valid_uid = 1000\nlast_valid_uid = 3000\n"
              "first_valid_gid = 1000\nlast_valid_gid = 3000\n")
    cases = {"lowuid": (999, 2000), "highuid": (3001, 2000),
             "lowgid": (2000, 999), "highgid": (2000, 3001),
             "root": (0, 2000), "ok": (2000, 2000)}
    inst.users = []
    for name, (uid, gid) in cases.items():
        inst.add_user(f"{name}@example.com", uid=uid, gid=gid,
                      home=os.path.join(homes, name))
    d = Daemon(inst, extra=ranges)
    d.start()
    try:
        lines = one_message(d, [f"{name}@example.com" for name in cases], SAMPLE)
        replies = dict(zip(cases, lines))
    finally:
        d.stop()
    for name, reply in replies.items():
        assert reply.startswith("250 " if name == "ok" else "451 4.3.0 "), (name, reply)
    assert os.listdir(homes) == ["ok"]
    log = inst.log("loft.log")
    for what in ("uid 999", "uid 3001", "gid 999", "gid 3001", "uid 0"):
        assert f"mail access for {what} is not permitted" in log, (what, log)
    shutil.rmtree(os.path.join(homes, "ok"))
    for name in cases:
        r = inst.lda("-d", f"{name}@example.com")
        assert r.returncode == (0 if name == "ok" else 75), (name, r.stderr)
    assert os.listdir(homes) == ["ok"]


def test_system_groups_outside_the_gid_range_are_dropped(inst):
    """userdb_system_groups_user=daemon gives the delivery daemon's
    supplementary groups; one below first_valid_gid or above
    last_valid_gid is dropped, so a folder only that group may enter
    stays closed (exit 75, nothing stored). With the range opened, the
    same delivery gets in."""
    group = "loft-test-sec"
    subprocess.run(["groupdel", group], capture_output=True)
    subprocess.run(["groupadd", "--system", group], check=True)
    try:
        subprocess.run(["usermod", "-a", "-G", group, "daemon"], check=True)
        gid = grp.getgrnam(group).gr_gid
        locked = os.path.join(inst.root, "locked")
        os.makedirs(locked)
        os.chown(locked, 0, gid)
        os.chmod(locked, 0o770)
        inst.users = []
        # user0's own gid (nobody's) is above the range start; user1's
        # (daemon's, 1) below the range end: group G below, then above
        cases = [("user0", NOBODY.pw_gid, f"first_valid_gid = {gid + 1}\nlast_valid_gid = 0",
                  f"first_valid_gid = {gid}"),
                 ("user1", 1, f"first_valid_gid = 1\nlast_valid_gid = {gid - 1}",
                  f"first_valid_gid = 1\nlast_valid_gid = {gid}")]
        for user, own_gid, closed, opened in cases:
            inst.add_user(f"{user}@example.com", gid=own_gid,
                          home=os.path.join(locked, user),
                          extra="userdb_system_groups_user=daemon")
            for ranges, code in ((closed, 75), (opened, 0)):
                inst.write_conf(extra=ranges + "\n")
                r = inst.lda("-d", f"{user}@example.com", msg=SAMPLE)
                assert r.returncode == code, (user, ranges, inst.log("loft.log"))
                assert os.path.exists(os.path.join(locked, user)) == (code == 0)
    finally:
        subprocess.run(["groupdel", group], capture_output=True)


def test_sender_chosen_bytes_reach_no_terminal_and_no_header(inst):
    """A Message-ID with ESC sequences is shown escaped by loftadm in
    every text format (JSON escapes it itself); a newline in loft-lda -f
    or -r is a usage error, not a new header; the -e line carries no
    control byte of -d."""
    from test_loftadm import adm, ok
    from test_stats import StatsDaemon
    sd = StatsDaemon(inst)
    sd.start()
    try:
        evil = b"<\x1b]0;pwned\x07\x1b[31mred@example.org>"
        msg = b"From: \x1b[2Jx@example.org\r\nMessage-ID: " + evil + b"\r\n\r\nbody\r\n"
        c = Raw(("127.0.0.1", sd.port))
        c.reply()
        c.cmd("LHLO x")
        c.cmd("MAIL FROM:<x@example.org>")
        c.cmd("RCPT TO:<user0@example.com>")
        c.cmd("DATA")
        c.send(msg + b".\r\n")
        assert c.line().endswith(" Saved")
        c.close()

        def shown(fmt):
            return ok(adm(inst, "deliveries", "--user", "user0*", fmt=fmt))
        import time
        for _ in range(100):
            if "red@example.org" in shown("tab"):
                break
            time.sleep(0.1)
        for fmt in (None, "flow", "tab"):
            out = shown(fmt)
            assert "\x1b" not in out and "\x07" not in out, (fmt, out)
            assert "\\x1b]0;pwned\\x07\\x1b[31mred@example.org" in out, (fmt, out)
    finally:
        sd.stop()
    for flag in ("-f", "-r"):
        r = inst.lda("-d", "user0@example.com", flag, "a@b.c\nX-Injected: yes")
        assert r.returncode == 64, (flag, r.returncode, r.stderr)
    for name in inst.new_files("user0@example.com"):
        with open(os.path.join(inst.maildir("user0@example.com"), "new", name), "rb") as f:
            assert b"X-Injected" not in f.read()
    r = inst.lda("-e", "-d", "nosuch\x1b[2J@example.com")
    assert r.returncode == 67
    first = r.stderr.split(b"\n")[0]
    assert first.startswith(b"5.1.1 ") and b"\x1b" not in first, r.stderr
    assert b"nosuch\\x1b[2J@example.com" in first


def test_lda_without_d_logs_the_real_user_not_user_env(inst):
    """Run as nobody without -d: the log names nobody, whatever $USER says."""
    home = os.path.join(inst.root, "nobody-home")
    os.makedirs(home)
    os.chown(home, NOBODY.pw_uid, NOBODY.pw_gid)
    inst.write_conf(extra="first_valid_uid = 1\nmail_home =\nmail_location = maildir:~/Maildir\n")
    os.chmod(inst.logdir, 0o777)
    r = subprocess.run(["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}",
                        "--clear-groups", "env", "USER=root", f"HOME={home}",
                        binary("loft-lda"), "-c", inst.conf], input=SAMPLE, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    log = inst.log()
    assert "lda(nobody)" in log and "lda(root)" not in log, log


def test_detail_mailbox_too_long_for_maildirpp_falls_back_to_inbox(inst):
    """Levels of 100 bytes are each fine, but Maildir++ joins them into one
    directory name over 255 bytes: that can never be created, so the mail
    goes to INBOX (it used to get 451 forever)."""
    d = Daemon(inst, extra="lmtp_save_to_detail_mailbox = yes\nlda_mailbox_autocreate = yes\n")
    d.start()
    try:
        detail = "/".join(["x" * 100] * 3)
        c = Raw(("127.0.0.1", d.port))
        c.reply()
        c.cmd("LHLO x")
        c.cmd("MAIL FROM:<a@example.org>")
        assert c.cmd(f"RCPT TO:<user0+{detail}@example.com>") == ["250 2.1.5 OK"]
        c.cmd("DATA")
        c.send(b"Subject: long\r\n\r\nbody\r\n.\r\n")
        assert c.line().endswith(" Saved")
        c.close()
    finally:
        d.stop()
    assert len(inst.new_files("user0@example.com")) == 1


def test_unprivileged_services_hold_no_log_file(inst):
    """loft-stats (and loft-lmtp with user = nobody) run as another user
    and hold no descriptor of root's log files: loft-log writes them."""
    d = Daemon(inst, service_extra="user = nobody")
    d.start()
    try:
        for name in ("loft-stats", "loft-lmtp"):
            for pid in d.children(name):
                targets = []
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    try:
                        targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
                    except OSError:
                        pass
                assert not [t for t in targets if t.startswith(inst.logdir)], (name, targets)
        # and their lines still arrive
        assert wait_for(lambda: "service(stats): process" in inst.log())
    finally:
        d.stop()
