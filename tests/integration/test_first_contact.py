"""What an admin meets first: `loftd -a/-n/-h SETTING...` printing just
those settings as doveconf does, loftd started without root saying that
it needs root and why, and a delivery into a mail directory it may not
write naming the euid/egid and the directory's owner and mode in
Dovecot's words."""
import os
import pwd
import re
import shutil
import smtplib
import subprocess
import tempfile

import pytest

from conftest import Daemon, binary, needs_root, NOBODY, wait_for

NOGROUP = "nogroup"


def loftd(*args, **kwargs):
    return subprocess.run([binary("loftd"), *args], capture_output=True, text=True,
                          timeout=30, **kwargs)


def test_named_settings_as_doveconf(inst):
    """doveconf NAME prints "name = value", -h NAME the value alone,
    -n NAME only when it differs from the default; loftd does the same"""
    with open(inst.conf, "a") as f:
        f.write("http_api_key = s3cret\nlmtp_max_message_size = 10M\n")
    r = loftd("-c", inst.conf, "-a", "hostname", "mail_fsync")
    assert r.returncode == 0 and r.stdout == "hostname = testhost\nmail_fsync = optimized\n", r
    r = loftd("-c", inst.conf, "-h", "hostname", "mail_fsync", "lmtp_max_message_size")
    assert r.returncode == 0 and r.stdout == "testhost\noptimized\n10M\n", r
    r = loftd("-c", inst.conf, "-a", "-h", "hostname")
    assert r.returncode == 0 and r.stdout == "testhost\n", r
    # -n leaves out what is at its default (mail_fsync)
    r = loftd("-c", inst.conf, "-n", "mail_fsync", "hostname")
    assert r.returncode == 0 and r.stdout == "hostname = testhost\n", r
    # secrets: hidden as in -a, refused by -h, shown with -P
    r = loftd("-c", inst.conf, "-a", "http_api_key")
    assert r.stdout == "http_api_key = # hidden, use -P to show it\n", r
    r = loftd("-c", inst.conf, "-h", "http_api_key")
    assert r.returncode == 64 and r.stdout == "" and "-P" in r.stderr, r
    r = loftd("-c", inst.conf, "-h", "-P", "http_api_key")
    assert r.returncode == 0 and r.stdout == "s3cret\n", r
    # an unknown name is an error, and nothing is printed (doveconf
    # prints nothing and exits 0: loft never silently ignores a name)
    r = loftd("-c", inst.conf, "-a", "hostname", "no_such_setting")
    assert r.returncode == 64 and r.stdout == "", r
    assert "Unknown setting: no_such_setting" in r.stderr
    # -h alone is still the help
    r = loftd("-h")
    assert r.returncode == 0 and r.stdout.startswith("Usage: loftd"), r


@needs_root
def test_not_root_says_it_needs_root_and_why(inst):
    root = tempfile.mkdtemp(prefix="loft-noroot-")
    try:
        os.chmod(root, 0o755)
        conf = os.path.join(root, "loft.conf")
        with open(conf, "w") as f:
            f.write(f"base_dir = {root}/run\n"
                    f"state_dir = {root}/state\n"
                    "default_internal_user = daemon\n"
                    "mail_location = maildir:~/Maildir\n"
                    "service lmtp {\n  inet_listener lmtp {\n"
                    "    address = 127.0.0.1\n    port = 24\n  }\n}\n")
        os.chmod(conf, 0o644)
        r = subprocess.run(["setpriv", "--reuid=nobody", f"--regid={NOGROUP}",
                            "--clear-groups", binary("loftd"), "-c", conf, "-F"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, r
        err = r.stderr
        assert err.startswith("loftd: Fatal: loftd needs root: it runs as "
                              f"uid={NOBODY.pw_uid}(nobody) gid={NOBODY.pw_gid}({NOGROUP}), but "), err
        assert "service(lmtp) listens on port 24" in err
        assert "service(stats) runs as user=daemon" in err
        assert f"base_dir {root}/run can't be created in {root}" in err
        assert f"state_dir {root}/state can't be created in {root}" in err
        assert "master.pid" not in err
        assert not os.path.exists(os.path.join(root, "run"))
    finally:
        shutil.rmtree(root, ignore_errors=True)


@needs_root
def test_not_root_is_fine_when_nothing_needs_root():
    """a config where no service changes user, no port is below 1024 and
    the folders are the user's own starts unprivileged (for tests): the
    check names what needs root, it does not demand root"""
    root = tempfile.mkdtemp(prefix="loft-noroot-")
    try:
        os.chmod(root, 0o755)
        os.chown(root, NOBODY.pw_uid, NOBODY.pw_gid)
        conf = os.path.join(root, "loft.conf")
        with open(conf, "w") as f:
            f.write(f"base_dir = {root}/run\nstate_dir =\n"
                    "default_internal_user = nobody\n"
                    f"log_path = {root}/loft.log\n"
                    "mail_location = maildir:~/Maildir\n")
        os.chmod(conf, 0o644)
        r = subprocess.run(["setpriv", "--reuid=nobody", f"--regid={NOGROUP}",
                            "--clear-groups", binary("loftd"), "-c", conf],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        r = subprocess.run(["setpriv", "--reuid=nobody", f"--regid={NOGROUP}",
                            "--clear-groups", binary("loftd"), "-c", conf, "stop"],
                           capture_output=True, text=True, timeout=70)
        assert r.returncode == 0, r
    finally:
        shutil.rmtree(root, ignore_errors=True)


def eacces_line(maildir):
    """Dovecot's eacces_error_get() wording for mkdir(Maildir/tmp) by
    nobody in a root-owned 0755 Maildir"""
    return (f"mkdir({maildir}/tmp) failed: Permission denied "
            f"(euid={NOBODY.pw_uid}(nobody) egid={NOBODY.pw_gid}({NOGROUP}) "
            f"missing +w perm: {maildir}, dir owned by 0:0 mode=0755)")


def root_owned_maildir(inst, user):
    home = inst.home(user)
    os.makedirs(home)
    os.chown(home, NOBODY.pw_uid, NOBODY.pw_gid)
    maildir = inst.maildir(user).rstrip("/")
    os.mkdir(maildir)
    os.chown(maildir, 0, 0)
    os.chmod(maildir, 0o755)
    return maildir


@needs_root
def test_lda_into_root_owned_maildir_names_ids_owner_and_mode(inst):
    maildir = root_owned_maildir(inst, "user0@example.com")
    r = inst.lda("-e", "-d", "user0@example.com")
    # temporary: the MTA keeps the message, nothing is lost
    assert r.returncode == 75, r
    log = inst.log("loft.log")
    assert eacces_line(maildir) in log, log
    assert os.listdir(maildir) == []


@needs_root
def test_lmtp_into_root_owned_maildir_names_ids_owner_and_mode(inst):
    """loft-lmtp writes with the recipient's ids on one thread while its
    real uid stays root: the explanation judges by the thread's ids"""
    maildir = root_owned_maildir(inst, "user1@example.com")
    d = Daemon(inst)
    try:
        d.start()
        with smtplib.LMTP("127.0.0.1", d.port) as s:
            s.ehlo_or_helo_if_needed()
            assert s.mail("sender@example.org")[0] == 250
            assert s.rcpt("user1@example.com")[0] == 250
            code, text = s.data(b"Subject: x\r\n\r\nbody\r\n")
        assert code == 451, (code, text)
        # loft-log writes the line after the reply: wait for it
        assert wait_for(lambda: eacces_line(maildir) in inst.log("loft.log")), \
            inst.log("loft.log")
    finally:
        d.stop()


@needs_root
def test_lda_mbox_in_root_owned_dir_names_ids_owner_and_mode(inst):
    inst.write_conf(mail_location="mbox:~/mail:INBOX=~/mail/inbox")
    home = inst.home("user0@example.com")
    os.makedirs(os.path.join(home, "mail"))
    os.chown(home, NOBODY.pw_uid, NOBODY.pw_gid)
    r = inst.lda("-e", "-d", "user0@example.com")
    assert r.returncode == 75, r
    log = inst.log("loft.log")
    assert (f"open({home}/mail/inbox) failed: Permission denied "
            f"(euid={NOBODY.pw_uid}(nobody) egid={NOBODY.pw_gid}({NOGROUP}) "
            f"missing +w perm: {home}/mail, dir owned by 0:0 mode=0755) "
            "(mail_privileged_group may allow creating it)") in log, log
