"""loft-lda as a process: every exit code of spec section 3, the stored
files (read back with Python's mailbox module), headers, folders, mbox,
privileges, logs and the failure paths that must end in exit 75."""
import json
import mailbox
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import NOBODY, SAMPLE, binary, is_root, needs_root

MAILDIR_NAME = re.compile(r"^(\d+)\.M(\d+)P(\d+)\.testhost,S=(\d+),W=(\d+)$")


def read(path):
    with open(path, "rb") as f:
        return f.read()


@needs_root
def test_saved_to_inbox_exit_0(inst):
    r = inst.lda("-d", "user0@example.com", "-f", "sender@example.org")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"" and r.stderr == b""
    files = inst.new_files("user0@example.com")
    assert len(files) == 1
    m = MAILDIR_NAME.match(files[0])
    assert m, files[0]
    path = os.path.join(inst.maildir("user0@example.com"), "new", files[0])
    data = read(path)
    assert int(m.group(4)) == len(data)
    assert int(m.group(5)) == len(data) + data.count(b"\n")
    assert b"\r\n" not in data
    # as dovecot-lda 2.3 (test_lda_headers.py compares the two): no
    # Return-Path, no Delivered-To, the message as it came
    assert data.startswith(b"From: Sender <sender@example.org>\n")
    assert b"Return-Path:" not in data and b"Delivered-To:" not in data
    st = os.stat(path)
    assert st.st_uid == NOBODY.pw_uid and (st.st_mode & 0o777) == 0o600
    assert inst.tmp_files("user0@example.com") == []
    md = mailbox.Maildir(inst.maildir("user0@example.com"), create=False)
    msgs = list(md)
    assert len(msgs) == 1 and msgs[0]["Subject"] == "hello"
    assert b"Hello, this is a test body.\n" in msgs[0].as_bytes()
    log = inst.log()
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d lda\(user0@example.com\)<\d+><[A-Za-z0-9+/]{22}>: "
                     r"Info: msgid=<m1@example.org>: saved mail to INBOX$", log, re.M), log


@needs_root
def test_unknown_user_exit_67(inst):
    r = inst.lda("-d", "nosuch@example.com", "-f", "a@b.c")
    assert r.returncode == 67
    assert r.stderr == b""
    r = inst.lda("-e", "-d", "nosuch@example.com", "-f", "a@b.c")
    assert r.returncode == 67
    assert r.stderr.decode() == "5.1.1 User doesn't exist: nosuch@example.com\n"
    assert not os.path.exists(inst.home("nosuch@example.com"))


def test_bad_option_exit_64(inst):
    r = inst.lda("-Q")
    assert r.returncode == 64
    assert b"Usage: loft-lda" in r.stdout
    r = inst.lda("-d", "user0@example.com", "extra-arg")
    assert r.returncode == 64


@needs_root
def test_bad_o_setting_is_a_config_error_exit_75(inst):
    """-o comes from the MTA's configuration (master.cf): Postfix bounces
    on 64, so a mistake there defers instead."""
    for setting in ("no_such_setting=1", "no_equals_sign", "mail_fsync=sometimes"):
        r = inst.lda("-e", "-d", "user0@example.com", "-o", setting)
        assert r.returncode == 75, (setting, r.stderr)
        lines = r.stderr.decode().splitlines()
        assert lines[0].startswith("4.3.5 "), lines
        assert setting.split("=")[0] in r.stderr.decode()
    assert inst.new_files("user0@example.com") == []


@needs_root
def test_empty_m_means_inbox(inst):
    """Postfix passes -m ${extension}, empty for a plain address; and
    -m INBOX/${extension} becomes INBOX/."""
    for mailbox in ("", "INBOX/"):
        r = inst.lda("-d", "user0@example.com", "-m", mailbox)
        assert r.returncode == 0, (mailbox, r.stderr)
    assert len(inst.new_files("user0@example.com")) == 2
    assert "save failed" not in inst.log()
    assert inst.log().count("saved mail to INBOX") == 2


@needs_root
def test_root_without_d_exit_64(inst):
    r = inst.lda("-f", "a@b.c")
    assert r.returncode == 64
    assert b"destination user parameter (-d user) not given" in r.stderr


@needs_root
def test_broken_config_exit_75(inst):
    with open(inst.conf, "a") as f:
        f.write("mail_fsync = sometimes\n")
    r = inst.lda("-e", "-d", "user0@example.com", "-f", "a@b.c")
    assert r.returncode == 75
    err = r.stderr.decode()
    assert re.search(re.escape(inst.conf) + r":\d+: ", err), err
    assert inst.new_files("user0@example.com") == []


@needs_root
def test_missing_config_exit_75(inst):
    r = inst.lda("-c", os.path.join(inst.root, "nope.conf"), "-d", "user0@example.com", conf=False)
    assert r.returncode == 75
    assert b"nope.conf" in r.stderr


@needs_root
def test_unreadable_userdb_exit_75(inst):
    os.unlink(inst.passwd)
    r = inst.lda("-e", "-d", "user0@example.com", "-f", "a@b.c")
    assert r.returncode == 75, r.stderr
    assert r.stderr.decode().startswith("4.3.0 ")
    assert "passwd" in inst.log("loft.log")
    # a directory where the file should be: also a temporary failure
    os.mkdir(inst.passwd)
    r = inst.lda("-d", "user0@example.com", "-f", "a@b.c")
    assert r.returncode == 75


@needs_root
def test_full_disk_exit_75_nothing_in_new(inst):
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))
    big = SAMPLE + (b"y" * 100 + b"\r\n") * 200
    r = inst.lda("-e", "-d", "user0@example.com", "-f", "a@b.c", msg=big, preexec_fn=limit)
    assert r.returncode == 75, r.stderr
    assert r.stderr.decode().startswith("4.3.1 ")
    assert inst.new_files("user0@example.com") == []
    assert inst.tmp_files("user0@example.com") == []


@needs_root
def test_full_disk_mbox_unchanged(inst):
    inst.write_conf(mail_location="mbox:~/mail:INBOX=~/inbox.mbox")
    assert inst.lda("-d", "user0@example.com", "-f", "a@b.c").returncode == 0
    path = os.path.join(inst.home("user0@example.com"), "inbox.mbox")
    before = read(path)

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(before) + 500,) * 2)
    big = SAMPLE + (b"z" * 100 + b"\r\n") * 50
    r = inst.lda("-d", "user0@example.com", "-f", "a@b.c", msg=big, preexec_fn=limit)
    assert r.returncode == 75
    assert read(path) == before


@needs_root
def test_uid_below_first_valid_uid_exit_75(inst):
    inst.add_user("daemon@example.com", uid=1, gid=1)
    r = inst.lda("-d", "daemon@example.com", "-f", "a@b.c")
    assert r.returncode == 75
    assert "first_valid_uid" in inst.log("loft.log")
    inst.add_user("root@example.com", uid=0, gid=0)
    assert inst.lda("-d", "root@example.com").returncode == 75


@needs_root
def test_mailbox_folder_autocreate_and_fallback(inst):
    # without autocreate: falls back to INBOX
    r = inst.lda("-d", "user0@example.com", "-f", "a@b.c", "-m", "Work/Projects")
    assert r.returncode == 0, r.stderr
    assert len(inst.new_files("user0@example.com")) == 1
    assert "save failed to open mailbox Work/Projects" in inst.log()
    # with autocreate + autosubscribe (-s) and a leading INBOX/
    r = inst.lda("-d", "user0@example.com", "-f", "a@b.c", "-m", "INBOX/Work/Projects",
                 "-o", "lda_mailbox_autocreate=yes", "-s")
    assert r.returncode == 0, r.stderr
    folder = inst.maildir("user0@example.com", ".Work.Projects")
    assert len(os.listdir(os.path.join(folder, "new"))) == 1
    assert os.path.exists(os.path.join(folder, "maildirfolder"))
    subs = read(os.path.join(inst.maildir("user0@example.com"), "subscriptions")).decode()
    assert "Work\tProjects" in subs
    md = mailbox.Maildir(inst.maildir("user0@example.com"), create=False)
    assert "Work.Projects" in md.list_folders()
    assert len(md.get_folder("Work.Projects")) == 1
    # an existing folder is used without autocreate
    r = inst.lda("-d", "user0@example.com", "-m", "Work/Projects")
    assert r.returncode == 0
    assert len(os.listdir(os.path.join(folder, "new"))) == 2


@needs_root
def test_layout_fs(inst):
    inst.write_conf(mail_location="maildir:~/Maildir:LAYOUT=fs",
                    extra="lda_mailbox_autocreate = yes")
    r = inst.lda("-d", "user1@example.com", "-m", "Lists/loft")
    assert r.returncode == 0, r.stderr
    assert len(os.listdir(os.path.join(inst.maildir("user1@example.com"), "Lists/loft/new"))) == 1


@needs_root
def test_mbox_delivery_readable_by_python(inst):
    inst.write_conf(mail_location="mbox:~/mail:INBOX=~/inbox.mbox")
    msg = b"From envsender@example.net  Sat Jan  3 01:05:34 1996\n" + SAMPLE
    for i in range(3):
        r = inst.lda("-d", "user0@example.com", msg=msg)
        assert r.returncode == 0, r.stderr
    path = os.path.join(inst.home("user0@example.com"), "inbox.mbox")
    box = mailbox.mbox(path, create=False)
    msgs = list(box)
    assert len(msgs) == 3
    for m in msgs:
        # the envelope sender is in the From_ line; no header is added
        assert m["Return-Path"] is None
        assert m.get_from().startswith("envsender@example.net ")
        body = m.get_payload()
        assert ">From the start of a line" in body
    data = read(path)
    assert data.count(b"\nFrom ") + data.startswith(b"From ") == 3


@needs_root
def test_pipe_headers_kept_once(inst):
    """Postfix's pipe with flags=DRhu prepends Return-Path and
    Delivered-To; loft-lda stores them as they came, once each, whatever
    -f/-a/-r say (dovecot-lda 2.3 adds no header of its own)."""
    msg = (b"Return-Path: <old@example.org>\n"
           b"Delivered-To: user0@example.com\n"
           b"Subject: x\n\nbody\n")
    r = inst.lda("-d", "user0@example.com", "-f", "<new@example.org>",
                 "-a", "alias@example.com", "-r", "final@example.com", msg=msg)
    assert r.returncode == 0
    data = read(os.path.join(inst.maildir("user0@example.com"), "new",
                             inst.new_files("user0@example.com")[0]))
    assert data == msg


@needs_root
def test_null_sender_and_orig_rcpt(inst):
    r = inst.lda("-d", "user0@example.com", "-f", "", "-a", "alias@example.com",
                 "-o", "log_format=json")
    assert r.returncode == 0, r.stderr
    data = read(os.path.join(inst.maildir("user0@example.com"), "new",
                             inst.new_files("user0@example.com")[0]))
    assert b"Return-Path:" not in data
    rec = [json.loads(l) for l in inst.log().splitlines()][-1]
    assert rec["event"] == "delivery"
    assert rec["service"] == "lda" and rec["user"] == "user0@example.com"
    assert rec["orig_rcpt"] == "alias@example.com"
    # dovecot-lda's final recipient is -r, else -a (what Sieve's
    # envelope and vacation see: test_sieve_delivery.py compares)
    assert rec["rcpt"] == "alias@example.com"
    assert rec["result"] == "saved" and rec["code"] == 250
    assert rec["enhanced_code"] == "2.0.0" and rec["mailbox"] == "INBOX"
    assert rec["msgid"] == "<m1@example.org>"
    assert rec["size"] == len(data)
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", rec["ts"])
    assert len(rec["session"]) == 22


@needs_root
def test_path_option_and_protocol_override(inst):
    src = os.path.join(inst.root, "msg.eml")
    with open(src, "wb") as f:
        f.write(SAMPLE)
    with open(inst.conf, "a") as f:
        f.write("protocol lda {\n  mail_location = maildir:~/LdaMail\n}\n")
    r = inst.lda("-d", "user0@example.com", "-p", src, msg=b"")
    assert r.returncode == 0, r.stderr
    new = os.path.join(inst.home("user0@example.com"), "LdaMail", "new")
    files = os.listdir(new)
    assert len(files) == 1 and b"Subject: hello" in read(os.path.join(new, files[0]))


@needs_root
def test_empty_message_saved(inst):
    r = inst.lda("-d", "user0@example.com", "-f", "a@b.c", msg=b"")
    assert r.returncode == 0
    assert "msgid=unspecified: saved mail to INBOX" in inst.log()


@needs_root
def test_static_userdb_and_mail_uid(inst):
    inst.write_conf(userdb=f"""
        userdb {{
          driver = static
          args = uid={NOBODY.pw_uid} gid={NOBODY.pw_gid} home={inst.vmail}/%d/%Ln allow_all_users=yes
        }}""")
    r = inst.lda("-d", "Anyone@example.com")
    assert r.returncode == 0, r.stderr
    assert os.path.isdir(os.path.join(inst.vmail, "example.com", "anyone", "Maildir", "new"))


@needs_root
def test_system_user_mode_without_d(inst):
    """As from ~/.forward: runs as the user, no userdb, $USER/$HOME."""
    home = os.path.join(inst.root, "home-nobody")
    os.mkdir(home)
    os.chown(home, NOBODY.pw_uid, NOBODY.pw_gid)
    os.chmod(inst.conf, 0o644)
    env = {"USER": "nobody", "HOME": home, "PATH": "/usr/bin:/bin"}
    r = subprocess.run([binary("loft-lda"), "-c", inst.conf, "-f", "a@b.c"], input=SAMPLE,
                       capture_output=True, env=env, user=NOBODY.pw_uid, group=NOBODY.pw_gid,
                       extra_groups=[], timeout=30)
    assert r.returncode == 0, r.stderr
    new = os.path.join(home, "Maildir", "new")
    assert len(os.listdir(new)) == 1


@needs_root
def test_lock_timeout_exit_75(inst):
    inst.write_conf(mail_location="mbox:~/mail:INBOX=~/inbox.mbox",
                    extra="mail_max_lock_timeout = 1 s")
    assert inst.lda("-d", "user0@example.com").returncode == 0
    path = os.path.join(inst.home("user0@example.com"), "inbox.mbox")
    before = read(path)
    with open(path + ".lock", "w") as f:
        f.write("held by test")
    start = time.monotonic()
    r = inst.lda("-d", "user0@example.com")
    elapsed = time.monotonic() - start
    assert r.returncode == 75
    assert elapsed < 20
    assert read(path) == before
    os.unlink(path + ".lock")
    assert inst.lda("-d", "user0@example.com").returncode == 0


@needs_root
@pytest.mark.parametrize("location", ["maildir:~/Maildir", "mbox:~/mail:INBOX=~/inbox.mbox"])
def test_fifty_concurrent_deliveries(inst, location):
    inst.write_conf(mail_location=location)

    def one(i):
        body = (f"Subject: concurrent {i}\nMessage-ID: <c{i}@x>\n\n" + f"body {i}\n" * 50).encode()
        return inst.lda("-d", "user0@example.com", "-f", "a@b.c", msg=body).returncode
    with ThreadPoolExecutor(max_workers=50) as pool:
        codes = list(pool.map(one, range(50)))
    assert codes == [0] * 50
    if location.startswith("maildir"):
        assert len(inst.new_files("user0@example.com")) == 50
        box = mailbox.Maildir(inst.maildir("user0@example.com"), create=False)
    else:
        box = mailbox.mbox(os.path.join(inst.home("user0@example.com"), "inbox.mbox"), create=False)
    subjects = set()
    for m in box:
        i = int(m["Subject"].split()[1])
        assert m.get_payload() == f"body {i}\n" * 50
        subjects.add(i)
    assert subjects == set(range(50))


@needs_root
def test_log_file_unwritable_never_defers(inst):
    os.rmdir(inst.logdir)
    with open(inst.logdir, "w") as f:  # a file where the log folder should be
        f.write("")
    r = inst.lda("-d", "user0@example.com", "-f", "a@b.c")
    assert r.returncode == 0, r.stderr
    assert len(inst.new_files("user0@example.com")) == 1
    assert b"saved mail to INBOX" in r.stderr  # fell back to stderr


@needs_root
def test_e_status_line_first_before_fallback_log_lines(inst):
    """Postfix's pipe reads the enhanced status code at the start of the
    output: with -e it comes first even when log lines fall back to stderr
    (here the log folder is a file, so every log line does)."""
    os.rmdir(inst.logdir)
    with open(inst.logdir, "w") as f:
        f.write("")
    r = inst.lda("-e", "-d", "nosuch@example.com", "-f", "a@b.c")
    assert r.returncode == 67
    lines = r.stderr.decode().splitlines()
    assert lines[0] == "5.1.1 User doesn't exist: nosuch@example.com", lines
    assert any("open(" in line for line in lines[1:]), lines  # the held log lines follow
    # a configuration failure: the status line, then the reason
    with open(inst.conf, "a") as f:
        f.write("mail_fsync = sometimes\n")
    r = inst.lda("-e", "-d", "user0@example.com", "-f", "a@b.c")
    assert r.returncode == 75
    lines = r.stderr.decode().splitlines()
    assert lines[0].startswith("4.3.5 "), lines
    assert any("mail_fsync" in line for line in lines[1:]), lines
    # without -e the log lines still reach stderr
    r = inst.lda("-d", "user0@example.com", "-f", "a@b.c")
    assert r.returncode == 75 and b"mail_fsync" in r.stderr


@pytest.fixture
def setuid_lda():
    """loft-lda installed setuid-root in a private 0755 folder; skips where
    the folder's file system ignores set-user-ID bits (nosuid)."""
    d = tempfile.mkdtemp(prefix="loft-suid-", dir="/var/tmp")
    os.chmod(d, 0o755)
    if os.statvfs(d).f_flag & os.ST_NOSUID:
        shutil.rmtree(d)
        pytest.skip(f"{d} is on a nosuid mount")
    path = os.path.join(d, "loft-lda")
    shutil.copy(binary("loft-lda"), path)
    os.chown(path, 0, 0)
    os.chmod(path, 0o4755)
    yield path
    shutil.rmtree(d, ignore_errors=True)


def run_as_nobody(args, msg=SAMPLE):
    """args run by nobody:nogroup without supplementary groups"""
    cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] + args
    return subprocess.run(cmd, input=msg, capture_output=True, timeout=60)


@needs_root
def test_setuid_caller_with_c_runs_as_the_caller(inst, setuid_lda):
    """A non-root caller who passes -c, -o or -p gets no root at all: every
    uid and gid becomes the caller's before anything is read (spec
    section 3), instead of a refusal with 64."""
    os.chmod(inst.conf, 0o644)
    os.chmod(inst.passwd, 0o644)
    # the process reports its own credentials: -p /proc/self/status is
    # read as the message after the switch
    r = run_as_nobody([setuid_lda, "-c", inst.conf, "-d", "user0@example.com",
                       "-p", "/proc/self/status"])
    assert r.returncode == 0, r.stderr
    files = inst.new_files("user0@example.com")
    assert len(files) == 1
    path = os.path.join(inst.maildir("user0@example.com"), "new", files[0])
    assert os.stat(path).st_uid == NOBODY.pw_uid
    status = read(path).decode()
    ids = f"\t{NOBODY.pw_uid}" * 4
    gids = f"\t{NOBODY.pw_gid}" * 4
    assert re.search(rf"^Uid:{ids}$", status, re.M), status
    assert re.search(rf"^Gid:{gids}$", status, re.M), status
    assert re.search(r"^Groups:\s*$", status, re.M), status
    assert re.search(r"^CapEff:\s*0+$", status, re.M), status


@needs_root
def test_setuid_caller_with_c_cannot_read_root_files(inst, setuid_lda):
    """-c naming a file only root may read is a configuration error (75,
    never 64): the caller's config is read with the caller's rights."""
    os.chmod(inst.conf, 0o600)
    r = run_as_nobody([setuid_lda, "-e", "-c", inst.conf, "-d", "user0@example.com"])
    assert r.returncode == 75, r.stderr
    lines = r.stderr.decode().splitlines()
    assert lines[0].startswith("4.3.5 "), lines
    assert any("Permission denied" in line for line in lines[1:]), lines
    assert inst.new_files("user0@example.com") == []


@needs_root
def test_setuid_caller_with_c_cannot_become_another_user(inst, setuid_lda):
    """After the drop, a user with another uid cannot be served: 75 (the
    MTA retries), nothing written."""
    inst.add_user("other@example.com", uid=5000, gid=5000)
    os.chmod(inst.conf, 0o644)
    os.chmod(inst.passwd, 0o644)
    r = run_as_nobody([setuid_lda, "-c", inst.conf, "-d", "other@example.com", "-o", "mail_debug=yes"])
    assert r.returncode == 75, r.stderr
    assert b"cannot switch" in r.stderr  # the log folder is root's: stderr
    assert not os.path.exists(inst.home("other@example.com"))


@needs_root
def test_maildir_tmp_scanned_as_the_user_and_never_fails_delivery(inst):
    """A delivery scans tmp/ when its atime (the last scan) is over 8 hours
    old. A file's ctime can not be set back, so removal of old files is
    tested at unit level with an injected clock (test_maildir); here: the
    scan happens, a file whose ctime is fresh stays though its mtime is
    old, and a tmp/ the user cannot list costs a warning, not the mail."""
    assert inst.lda("-d", "user0@example.com").returncode == 0
    tmp = os.path.join(inst.maildir("user0@example.com"), "tmp")
    old = time.time() - 40 * 3600
    stale = os.path.join(tmp, "1.M1P1.testhost")
    with open(stale, "w") as f:
        f.write("partial")
    os.utime(stale, (old, old))
    os.utime(tmp, (time.time() - 9 * 3600, time.time()))
    r = inst.lda("-d", "user0@example.com")
    assert r.returncode == 0, r.stderr
    assert os.path.exists(stale)                      # ctime is fresh
    assert os.stat(tmp).st_atime > time.time() - 60   # scanned, marked
    assert len(inst.new_files("user0@example.com")) == 2
    # the user may create files in tmp/ but not list it
    os.chmod(tmp, 0o300)
    os.utime(tmp, (time.time() - 9 * 3600, time.time()))
    r = inst.lda("-d", "user0@example.com")
    assert r.returncode == 0, r.stderr
    assert len(inst.new_files("user0@example.com")) == 3
    log = inst.log("loft.log")
    assert re.search(r"Warning: maildir tmp/ cleanup: opendir\(.*/tmp\) failed: Permission denied", log), log
    # marked anyway: the next delivery does not try again
    r = inst.lda("-d", "user0@example.com")
    assert r.returncode == 0
    assert inst.log("loft.log").count("cleanup") == 1


@needs_root
def test_failures_before_delivery_are_recorded_outcomes(inst):
    """A run that ends before storing (the message file unreadable, the
    ids refused) still logs the recipient's outcome as a delivery's
    failure is logged, with the reply text that -e prints."""
    r = inst.lda("-d", "user0@example.com", "-f", "a@b.c", "-e",
                 "-p", os.path.join(inst.root, "missing.eml"), msg=b"")
    assert r.returncode == 75
    inst.add_user("daemon@example.com", uid=1, gid=1)
    r2 = inst.lda("-d", "daemon@example.com", "-f", "a@b.c", "-e")
    assert r2.returncode == 75
    # the outcome line, "msgid=...: <reply text>", as every delivery's
    outcomes = [l for l in inst.log("loft.log").splitlines() if "msgid=" in l]
    assert any("lda(user0@example.com)" in l and
               "Temporary failure reading the message" in l
               for l in outcomes), outcomes
    assert any("lda(daemon@example.com)" in l and "Internal error" in l
               for l in outcomes), outcomes
