"""Headers as dovecot-lda writes them: the same message delivered by
Debian's dovecot-lda (a private Dovecot started by the test serves its
auth-userdb socket) and by loft-lda, in every mode Postfix and the seeds
use it (-d, -f, -a, -r, lda_original_recipient_header, a pipe with
flags=DRhu that already prepended Return-Path and Delivered-To, and
without -d as a mailbox_command running as the user), must be stored
byte for byte the same. dovecot-lda 2.3 adds no header in any of them,
so Postfix's prepended lines are never doubled and no `Delivered-To:
localname` without a domain appears."""
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import time

import pytest

from conftest import NOBODY, binary, needs_root, wait_for

DOVECOT = "/usr/sbin/dovecot"
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"

pytestmark = [
    needs_root,
    pytest.mark.skipif(not (os.path.exists(DOVECOT) and os.path.exists(DOVECOT_LDA)),
                       reason="needs Debian's dovecot-core (scripts/deps.sh)"),
]

USER = "user0@example.com"
PLAIN = (b"From: Sender <sender@example.org>\n"
         b"To: user0@example.com\n"
         b"Subject: headers\n"
         b"Message-ID: <h1@example.org>\n"
         b"\n"
         b"body line\n")
# Postfix's pipe(8) with flags=DRhu: R prepends Return-Path, D Delivered-To
PIPE_DRHU = (b"Return-Path: <sender@example.org>\n"
             b"Delivered-To: user0@example.com\n") + PLAIN
# local(8) before a mailbox_command: Return-Path, X-Original-To, Delivered-To
LOCAL = (b"Return-Path: <sender@example.org>\n"
         b"X-Original-To: nobody@mx.example.com\n"
         b"Delivered-To: nobody@mx.example.com\n") + PLAIN
XORIG = b"X-Original-To: alias@example.com\n" + PLAIN
FROM_LINE = b"From sender@example.org  Thu Jan  1 00:00:00 2026\n" + PLAIN


@pytest.fixture(scope="module")
def dovecot():
    """A private Dovecot (protocols = none: master, auth, config) whose
    auth-userdb socket dovecot-lda -d uses."""
    root = tempfile.mkdtemp(prefix="loft-dovecot-")
    os.chmod(root, 0o755)
    vmail = os.path.join(root, "vmail")
    os.makedirs(vmail)
    os.chown(vmail, NOBODY.pw_uid, NOBODY.pw_gid)
    os.makedirs(os.path.join(root, "log"))
    users = os.path.join(root, "users")
    with open(users, "w") as f:
        f.write(f"{USER}::{NOBODY.pw_uid}:{NOBODY.pw_gid}::{vmail}/example.com/user0::\n")
    conf = os.path.join(root, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(textwrap.dedent(f"""\
            instance_name = loft-test-{os.path.basename(root)}
            base_dir = {root}/run
            state_dir = {root}/state
            log_path = {root}/log/dovecot.log
            protocols = none
            ssl = no
            default_internal_user = root
            default_internal_group = root
            default_login_user = root
            first_valid_uid = 1
            first_valid_gid = 1
            mail_uid = {NOBODY.pw_uid}
            mail_gid = {NOBODY.pw_gid}
            mail_location = maildir:~/Maildir
            hostname = testhost
            passdb {{
              driver = passwd-file
              args = scheme=PLAIN {users}
            }}
            userdb {{
              driver = passwd-file
              args = {users}
            }}
            service stats {{
              unix_listener stats-writer {{
                mode = 0666
              }}
            }}
            """))
    os.chmod(conf, 0o644)
    # the daemon keeps its stdio: a file, not a pipe that never ends
    errors = os.path.join(root, "log", "start.err")
    with open(errors, "w") as err:
        r = subprocess.run([DOVECOT, "-c", conf], stdin=subprocess.DEVNULL,
                           stdout=err, stderr=err, timeout=30)
    with open(errors) as f:
        assert r.returncode == 0, f.read()
    pidfile = os.path.join(root, "run", "master.pid")
    assert wait_for(lambda: os.path.exists(os.path.join(root, "run", "auth-userdb")))
    yield {"root": root, "conf": conf, "vmail": vmail}
    with open(pidfile) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not os.path.exists(f"/proc/{pid}"), timeout=20)
    shutil.rmtree(root, ignore_errors=True)


def stored(maildir):
    new = os.path.join(maildir, "new")
    names = os.listdir(new) if os.path.isdir(new) else []
    assert len(names) == 1, names
    with open(os.path.join(new, names[0]), "rb") as f:
        return f.read()


def run_dovecot_lda(dovecot, args, msg):
    shutil.rmtree(os.path.join(dovecot["vmail"], "example.com"), ignore_errors=True)
    r = subprocess.run([DOVECOT_LDA, "-c", dovecot["conf"], *args], input=msg,
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return stored(os.path.join(dovecot["vmail"], "example.com", "user0", "Maildir"))


def run_loft_lda(inst, args, msg):
    shutil.rmtree(inst.home(USER), ignore_errors=True)
    r = inst.lda(*args, msg=msg)
    assert r.returncode == 0, r.stderr
    return stored(inst.maildir(USER))


MODES = [
    ("-d", ["-d", USER], PLAIN),
    ("-d -f", ["-d", USER, "-f", "sender@example.org"], PLAIN),
    ("-d null sender", ["-d", USER, "-f", ""], PLAIN),
    ("-d -a", ["-d", USER, "-a", "alias@example.com"], PLAIN),
    ("-d -r", ["-d", USER, "-r", "final@example.com"], PLAIN),
    ("-d -f -a -r", ["-d", USER, "-f", "sender@example.org", "-a", "alias@example.com",
                     "-r", "final@example.com"], PLAIN),
    ("lda_original_recipient_header", ["-d", USER, "-o",
                                       "lda_original_recipient_header=X-Original-To"], XORIG),
    ("mbox From_ line", ["-d", USER], FROM_LINE),
    # Postfix: flags=DRhu user=vmail argv=... -f ${sender} -a ${original_recipient} -d ${user}@${nexthop}
    ("pipe flags=DRhu", ["-f", "sender@example.org", "-a", USER, "-d", USER], PIPE_DRHU),
]


@pytest.mark.parametrize("name,args,msg", MODES, ids=[m[0] for m in MODES])
def test_same_stored_message_as_dovecot_lda(dovecot, inst, name, args, msg):
    want = run_dovecot_lda(dovecot, args, msg)
    got = run_loft_lda(inst, args, msg)
    assert got == want, f"{name}:\ndovecot-lda:\n{want.decode()}\nloft-lda:\n{got.decode()}"
    if msg is PIPE_DRHU:
        assert got.count(b"Delivered-To:") == 1 and got.count(b"Return-Path:") == 1


def test_mailbox_command_without_d_as_the_user(dovecot, inst):
    """Postfix's mailbox_command runs the LDA as the recipient, after
    local(8) prepended its headers: neither LDA adds a `Delivered-To:
    nobody` (a local name without a domain), nor a second Return-Path."""
    results = []
    for program, conf in ((DOVECOT_LDA, "user.conf"), (binary("loft-lda"), None)):
        home = tempfile.mkdtemp(prefix="loft-home-")
        os.chown(home, NOBODY.pw_uid, NOBODY.pw_gid)
        try:
            if conf is not None:
                # Dovecot's user mode: no auth, the mail in ~/Maildir
                path = os.path.join(dovecot["root"], conf)
                with open(dovecot["conf"]) as f:
                    text = f.read()
                text = "\n".join(l for l in text.splitlines()
                                 if not l.startswith(("log_path", "mail_uid", "mail_gid")))
                with open(path, "w") as f:
                    f.write(text + "\nlog_path = /dev/stderr\n")
                os.chmod(path, 0o644)
            else:
                os.chmod(inst.conf, 0o644)
                os.chmod(inst.logdir, 0o777)
                path = inst.conf
            env = {"USER": "nobody", "HOME": home, "PATH": "/usr/bin:/bin"}
            r = subprocess.run([program, "-c", path, "-f", "sender@example.org"],
                               input=LOCAL, capture_output=True, env=env,
                               user=NOBODY.pw_uid, group=NOBODY.pw_gid, extra_groups=[],
                               cwd="/", timeout=60)
            assert r.returncode == 0, (program, r.stderr)
            results.append(stored(os.path.join(home, "Maildir")))
        finally:
            shutil.rmtree(home, ignore_errors=True)
    want, got = results
    assert got == want, f"dovecot-lda:\n{want.decode()}\nloft-lda:\n{got.decode()}"
    assert got == LOCAL
    assert b"Delivered-To: nobody\n" not in got
