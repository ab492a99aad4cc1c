"""Sieve at delivery time (mail_plugins = sieve) through the real front
ends: loft-lda and LMTP over TCP, checking the files stored in the
maildirs. The same scripts are run by Debian's dovecot-lda with
Pigeonhole (a private config, run as nobody with its own home: no
dovecot service) and the stored messages compared: folder, new/ or cur/,
maildir flags and bytes. Also the script sequence (sieve_before,
sieve_default, sieve_after), reject as an LMTP 5xx and an LDA exit 77,
script errors (log, ~/.dovecot.sieve.log, implicit keep), the compiled
script cache following edits of the script, and every copy counted by
the quota plugin."""
import os
import re
import shutil
import smtplib
import subprocess
import textwrap

import pytest

from conftest import NOBODY, Daemon, binary, free_port, needs_root, wait_for

USER = "user0@example.com"
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"
MSG = (b"From: Sender <sender@example.org>\r\n"
       b"To: user0@example.com\r\n"
       b"Subject: [list] hello there\r\n"
       b"List-Id: Foo list <foo.lists.example.org>\r\n"
       b"Message-ID: <s1@example.org>\r\n"
       b"\r\n"
       b"Hello.\r\n")

SIEVE_CONF = """
    mail_plugins = $mail_plugins sieve
    plugin {
      sieve_extensions = +editheader
      %s
    }
    """


def conf(inst, plugin="", extra=""):
    inst.write_conf(extra=SIEVE_CONF % plugin + extra)


def write(path, text, owner=True):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))
    os.chmod(path, 0o644)
    if owner:
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)


def make_home(home):
    """home and what is in it, and its domain folder, owned by nobody"""
    os.makedirs(home, exist_ok=True)
    for d in [os.path.dirname(home), home] + [os.path.join(home, x)
                                              for x in os.listdir(home)]:
        os.chown(d, NOBODY.pw_uid, NOBODY.pw_gid)


def stored(maildir):
    """{(folder, sub, flags): [bytes, ...]} of a maildir; folder "" is
    INBOX, sub is new or cur, flags the letters after :2,; a folder's
    dovecot-keywords file as (folder, "keywords", "") """
    found = {}
    if not os.path.isdir(maildir):
        return found
    folders = [""] + sorted(d for d in os.listdir(maildir) if d.startswith("."))
    for folder in folders:
        kw = os.path.join(maildir, folder, "dovecot-keywords")
        if os.path.exists(kw):
            with open(kw, "rb") as f:
                found[(folder, "keywords", "")] = [f.read()]
        for sub in ("new", "cur"):
            d = os.path.join(maildir, folder, sub)
            for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                flags = name.split(":2,")[1] if ":2," in name else ""
                with open(os.path.join(d, name), "rb") as f:
                    found.setdefault((folder, sub, flags), []).append(f.read())
    return found


def dovecot_lda(root, script, before=(), after=(), msg=MSG, plugin="", extra="",
                args=("-f", "sender@example.org")):
    """dovecot-lda with Pigeonhole on a fresh home: script as
    ~/.dovecot.sieve (None: none), before/after as sieve_before[N] /
    sieve_after[N]; the stored messages (see stored())"""
    work = os.path.join(root, "dovecot")
    shutil.rmtree(work, ignore_errors=True)
    home = os.path.join(work, "home")
    os.makedirs(home)
    os.chmod(work, 0o755)
    locations = []
    for kind, scripts in (("sieve_before", before), ("sieve_after", after)):
        for i, text in enumerate(scripts):
            path = os.path.join(work, f"{kind}{i}.sieve")
            write(path, text)
            locations.append(f"{kind}{i + 1 if i else ''} = {path}")
    if script is not None:
        write(os.path.join(home, ".dovecot.sieve"), script)
    make_home(home)
    with open(os.path.join(work, "dovecot.conf"), "w") as f:
        f.write(textwrap.dedent(f"""\
            base_dir = {work}/run
            log_path = /dev/stderr
            mail_location = maildir:~/Maildir
            first_valid_uid = 1
            postmaster_address = postmaster@example.com
            {extra}
            ssl = no
            namespace inbox {{
              inbox = yes
              separator = /
            }}
            protocol lda {{
              mail_plugins = sieve
            }}
            plugin {{
              sieve_extensions = +editheader
              {plugin}
            """) + "\n".join(locations) + "\n}\n")
    os.chmod(os.path.join(work, "dovecot.conf"), 0o644)
    proc = subprocess.run(
        ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}",
         "--clear-groups", "env", "-i", f"HOME={home}", f"USER={USER}",
         "PATH=/usr/bin:/bin", DOVECOT_LDA, "-c", os.path.join(work, "dovecot.conf"),
         *args],
        input=msg, capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    print(proc.stderr.decode())
    return stored(os.path.join(home, "Maildir"))


def loft_lda(inst, script, before=(), after=(), msg=MSG, plugin="", extra="",
             args=("-e", "-f", "sender@example.org")):
    """loft-lda with the same layout as dovecot_lda(); (process, stored)"""
    home = inst.home(USER)
    shutil.rmtree(home, ignore_errors=True)
    os.makedirs(home)
    work = os.path.join(inst.root, "global")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    locations = []
    for kind, scripts in (("sieve_before", before), ("sieve_after", after)):
        for i, text in enumerate(scripts):
            path = os.path.join(work, f"{kind}{i}.sieve")
            write(path, text, owner=False)
            locations.append(f"{kind}{i + 1 if i else ''} = {path}")
    if script is not None:
        write(os.path.join(home, ".dovecot.sieve"), script)
    make_home(home)
    conf(inst, "\n".join([plugin] + locations), extra)
    proc = inst.lda("-d", USER, *args, msg=msg)
    return proc, stored(inst.maildir(USER))


# (name, personal script, before scripts, after scripts)
CASES = [
    ("fileinto-flags-create", """\
        require ["fileinto", "imap4flags", "mailbox", "variables"];
        if header :matches "List-Id" "*<*.lists.example.org>" {
          fileinto :create :flags "\\\\Seen \\\\Flagged" "Lists/${2}";
        }
        """, (), ()),
    ("copy-keep-flags", """\
        require ["fileinto", "imap4flags", "copy", "mailbox"];
        addflag "\\\\Answered";
        fileinto :copy :create "Archive";
        """, (), ()),
    ("keywords", """\
        require ["fileinto", "imap4flags", "mailbox"];
        addflag ["Junk", "\\\\Seen", "$label1"];
        fileinto :create "Spam";
        addflag "NonJunk";
        """, (), ()),
    ("editheader-stored", """\
        require ["editheader", "fileinto", "mailbox"];
        deleteheader "List-Id";
        addheader "X-Spam-Folder" "yes";
        addheader :last "X-Last" "1";
        fileinto :create "Junk";
        """, (), ()),
    ("discard", "discard;\n", (), ()),
    ("missing-folder-no-create", """\
        require "fileinto";
        fileinto "Nowhere";
        """, (), ()),
    ("compile-error", "require \"fileinto\";\nfileinto;\n", (), ()),
    # more actions than sieve_max_actions (32): none of them, the keep
    ("runtime-error", 'require "fileinto";\n' +
     "".join(f'fileinto "F{i}";\n' for i in range(33)), (), ()),
    ("sequence-before-after", """\
        require ["fileinto", "mailbox"];
        if header :contains "subject" "nothing" { discard; }
        """, ("""\
        require ["fileinto", "imap4flags", "copy", "mailbox", "editheader"];
        addheader "X-Before" "1";
        fileinto :copy :create "Before";
        stop;
        """,), ("""\
        require ["fileinto", "mailbox"];
        if exists "X-Before" { fileinto :create "After"; }
        """,)),
    ("sequence-ends-when-keep-cancelled", """\
        require "fileinto";
        fileinto "INBOX";
        """, ("""\
        require ["fileinto", "mailbox"];
        fileinto :create "Spam";
        """,), ("""\
        require ["fileinto", "mailbox"];
        fileinto :create "After";
        """,)),
    ("no-personal-script", None, ("""\
        require ["fileinto", "mailbox", "copy"];
        fileinto :copy :create "Global";
        """,), ()),
]


@needs_root
@pytest.mark.parametrize("name,script,before,after", CASES, ids=[c[0] for c in CASES])
def test_lda_matches_dovecot_lda(inst, name, script, before, after):
    proc, got = loft_lda(inst, script, before, after)
    assert proc.returncode == 0, proc.stderr
    if not os.path.exists(DOVECOT_LDA):
        pytest.skip("dovecot-lda is not installed")
    want = dovecot_lda(inst.root, script, before, after)
    assert got == want


@needs_root
def test_lda_stores_what_the_script_says(inst):
    """the first case's result in detail, without Dovecot"""
    proc, got = loft_lda(inst, CASES[0][1])
    assert proc.returncode == 0, proc.stderr
    assert list(got) == [(".Lists.foo", "cur", "FS")]
    assert got[(".Lists.foo", "cur", "FS")] == [MSG.replace(b"\r\n", b"\n")]
    script = os.path.join(inst.home(USER), ".dovecot.sieve")
    assert f'saved mail to Lists/foo (sieve {script}: fileinto "Lists/foo")' in inst.log()
    proc, got = loft_lda(inst, dict((c[0], c[1]) for c in CASES)["editheader-stored"])
    body = got[(".Junk", "new", "")][0]
    assert body.startswith(b"X-Spam-Folder: yes\nFrom: Sender")
    assert b"List-Id" not in body and b"\nX-Last: 1\n\nHello.\n" in body


@needs_root
def test_lda_reject_and_errors(inst):
    proc, got = loft_lda(inst, 'require "reject";\nreject "I do not want it";\n')
    assert proc.returncode == 77, proc.stderr
    assert proc.stderr == b"5.7.1 I do not want it\n"
    assert got == {}
    assert ': rejected (sieve ' in inst.log()
    assert '.dovecot.sieve: reject "I do not want it")' in inst.log()
    # a compile error: logged, the user log written, the mail kept
    proc, got = loft_lda(inst, "if true { fileinto \"x\"; }\n")
    assert proc.returncode == 0, proc.stderr
    assert list(got) == [("", "new", "")]
    userlog = os.path.join(inst.home(USER), ".dovecot.sieve.log")
    with open(userlog) as f:
        text = f.read()
    assert "error: line 1:" in text and "fileinto" in text
    assert os.stat(userlog).st_uid == NOBODY.pw_uid
    assert "failed, but implicit keep was successful (user logfile" in inst.log()
    # a runtime error (too many redirects): the same
    proc, got = loft_lda(inst, 'redirect "a@example.com";' * 5)
    assert proc.returncode == 0 and list(got) == [("", "new", "")]
    # -m names the default mailbox: the implicit keep goes there
    home = inst.home(USER)
    write(os.path.join(home, ".dovecot.sieve"), "keep;\n")
    proc = inst.lda("-d", USER, "-m", "Work", "-o", "lda_mailbox_autocreate=yes", msg=MSG)
    assert proc.returncode == 0, proc.stderr
    assert (".Work", "new", "") in stored(inst.maildir(USER))


@needs_root
def test_sieve_default_and_settings(inst):
    """sieve_default runs when the user has no script of their own; a
    bad sieve setting fails the delivery temporarily (75)"""
    default = os.path.join(inst.root, "default.sieve")
    write(default, 'require "fileinto";\nfileinto "INBOX";\nif false { keep; }\n', owner=False)
    proc, got = loft_lda(inst, None, plugin=f"sieve_default = file:{default}")
    assert proc.returncode == 0 and list(got) == [("", "new", "")]
    assert 'sieve: fileinto "INBOX"' in inst.log()
    # a user without a home has no personal script: sieve_default runs
    nohome = os.path.join(inst.root, "nohome-mail")
    os.makedirs(nohome)
    os.chown(nohome, NOBODY.pw_uid, NOBODY.pw_gid)
    inst.add_user("nohome@example.com", extra=f"userdb_mail=maildir:{nohome}")
    write(default, 'require ["fileinto", "mailbox"];\nfileinto :create "Default";\n',
          owner=False)
    r = inst.lda("-e", "-d", "nohome@example.com", "-o", "mail_home=", msg=MSG)
    assert r.returncode == 0, r.stderr
    assert list(stored(nohome)) == [(".Default", "new", "")], inst.log() + inst.log("loft.log")
    proc, got = loft_lda(inst, "keep;", plugin="sieve_max_actions = lots")
    assert proc.returncode == 75 and got == {}
    assert "sieve_max_actions: invalid number" in proc.stderr.decode() + inst.log("loft.log")
    # loftd --check names the line, for LMTP's mail_plugins too
    inst.write_conf(extra=textwrap.dedent("""\
        protocol lmtp {
          mail_plugins = sieve
        }
        plugin {
          sieve_before = dict:proxy::sieve
        }
        """))
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert re.match(re.escape(inst.conf) + r":\d+: sieve_before: location type 'dict' "
                    r"is not supported by loft", r.stderr), r.stderr


def lmtp(port, rcpts, msg=MSG):
    """one transaction; {rcpt: (code, text)} after DATA"""
    with smtplib.LMTP("127.0.0.1", port) as s:
        s.ehlo_or_helo_if_needed()
        s.mail("sender@example.org")
        for r in rcpts:
            assert s.rcpt(r)[0] == 250
        s.putcmd("data")
        code, _ = s.getreply()
        assert code == 354
        s.send(msg.replace(b"\r\n.", b"\r\n..") + b".\r\n")
        return {r: s.getreply() for r in rcpts}


@needs_root
def test_lmtp_per_recipient(inst):
    """two recipients of one transaction: one files and rejects by its
    own script (550 5.7.1 after DATA), the other files by header, sees the
    Received header LMTP adds, and its edits do not reach the first"""
    inst.add_user("user1@example.com")
    inst.add_user("user2@example.com")
    h1, h2 = inst.home("user1@example.com"), inst.home("user2@example.com")
    for h in (h1, h2):
        os.makedirs(h, exist_ok=True)
    write(os.path.join(h1, ".dovecot.sieve"), """\
        require ["fileinto", "mailbox", "editheader"];
        if header :contains "received" "with LMTP" {
          addheader "X-Seen-Received" "yes";
          fileinto :create "Lmtp";
        }
        """)
    write(os.path.join(h2, ".dovecot.sieve"), 'require "reject";\nreject "no thanks";\n')
    make_home(h1)
    make_home(h2)
    d = Daemon(inst, extra=SIEVE_CONF % "")
    d.start()
    try:
        replies = lmtp(d.port, ["user1@example.com", "user2@example.com", USER])
        assert replies["user1@example.com"][0] == 250
        assert replies["user2@example.com"] == \
            (550, b"5.7.1 <user2@example.com> no thanks")
        assert replies[USER][0] == 250, inst.log("loft.log")
        got = stored(inst.maildir("user1@example.com"))
        assert list(got) == [(".Lmtp", "cur", "")] or list(got) == [(".Lmtp", "new", "")]
        body = list(got.values())[0][0]
        assert body.startswith(b"X-Seen-Received: yes\nReturn-Path: <sender@example.org>\n")
        assert stored(inst.maildir("user2@example.com")) == {}
        plain = stored(inst.maildir(USER))[("", "new", "")][0]
        assert b"X-Seen-Received" not in plain
        # the cache follows the script: same size, new content
        write(os.path.join(h2, ".dovecot.sieve"), 'require "reject";\nreject "no THANKS";\n')
        assert lmtp(d.port, ["user2@example.com"])["user2@example.com"] == \
            (550, b"5.7.1 <user2@example.com> no THANKS")
        write(os.path.join(h2, ".dovecot.sieve"), 'keep;\n')
        assert lmtp(d.port, ["user2@example.com"])["user2@example.com"][0] == 250
        assert len(stored(inst.maildir("user2@example.com"))[("", "new", "")]) == 1
        # a reason of several lines is one reply line: it cannot forge
        # the replies of the recipients after it (found by fuzzing)
        write(os.path.join(h2, ".dovecot.sieve"), 'require "reject";\n'
              'reject text:\nno\r\n250 2.0.0 <x> forged Saved\r\n.\r\n;\n')
        replies = lmtp(d.port, ["user2@example.com", USER])
        assert replies["user2@example.com"][0] == 550
        assert replies["user2@example.com"][1].startswith(b"5.7.1 <user2@example.com> no ")
        assert replies[USER][0] == 250 and b"forged" not in replies[USER][1]
    finally:
        d.stop()


@needs_root
def test_every_copy_counted_by_quota(inst):
    """fileinto :copy and the keep are two saves, both checked against
    and counted in maildirsize; over quota, no copy is stored"""
    inst.add_user("small@example.com", extra="userdb_quota_rule=*:storage=1k")
    home = inst.home("small@example.com")
    os.makedirs(home)
    write(os.path.join(home, ".dovecot.sieve"), """\
        require ["fileinto", "copy", "mailbox"];
        fileinto :copy :create "Copy";
        """)
    make_home(home)
    inst.write_conf(extra=(SIEVE_CONF % "quota = maildir:User quota\n  quota_rule = *:storage=1G")
                    .replace("sieve\n", "sieve quota\n"))
    r = inst.lda("-e", "-d", "small@example.com", msg=MSG)
    assert r.returncode == 0, r.stderr
    got = stored(inst.maildir("small@example.com"))
    assert sorted(got) == [("", "new", ""), (".Copy", "new", "")]
    size = len(MSG.replace(b"\r\n", b"\n"))
    with open(os.path.join(inst.maildir("small@example.com"), "maildirsize")) as f:
        lines = f.read().split("\n")
    counted = [tuple(int(x) for x in line.split()) for line in lines[1:-1]]
    assert sum(b for b, _ in counted) == 2 * size and sum(c for _, c in counted) == 2
    # deliveries until one does not fit: it is refused whole, no copy
    # stored (the two saves of one script fit together or not at all)
    for n in range(2, 10):
        r = inst.lda("-e", "-d", "small@example.com", msg=MSG)
        if r.returncode != 0:
            break
    assert r.returncode == 77 and r.stderr.startswith(b"5.2.2 "), r.stderr
    got = stored(inst.maildir("small@example.com"))
    assert len(got[("", "new", "")]) == len(got[(".Copy", "new", "")]) == n - 1
    with open(os.path.join(inst.maildir("small@example.com"), "maildirsize")) as f:
        lines = f.read().split("\n")
    counted = [tuple(int(x) for x in line.split()) for line in lines[1:-1]]
    assert sum(c for _, c in counted) == 2 * (n - 1)
    assert sum(b for b, _ in counted) == 2 * (n - 1) * size


@needs_root
def test_observable(inst):
    """the actions and the script in the log line and the journal entry,
    loft_sieve_actions_total{action} and loft_sieve_script_errors_total,
    and `loftadm debug USER on` tracing the script rule by rule"""
    from test_loftadm import adm, ok
    from test_stats import StatsDaemon
    from conftest import wait_for
    inst.add_user("user1@example.com")
    h0, h1 = inst.home(USER), inst.home("user1@example.com")
    os.makedirs(h0, exist_ok=True)
    os.makedirs(h1, exist_ok=True)
    script0 = write(os.path.join(h0, ".dovecot.sieve"), CASES[0][1]) or \
        os.path.join(h0, ".dovecot.sieve")
    write(os.path.join(h1, ".dovecot.sieve"), "if header :is \"x\" { keep; }\n")
    make_home(h0)
    make_home(h1)
    d = StatsDaemon(inst, extra=SIEVE_CONF % "").start()
    try:
        ok(adm(inst, "debug", USER, "on"))
        replies = lmtp(d.port, [USER, "user1@example.com"])
        assert all(code == 250 for code, _ in replies.values())
        assert re.search(r"lmtp\(user0@example\.com\)<\d+><\S+>: Info: msgid=<s1@example.org>: "
                         r"saved mail to Lists/foo \(sieve " + re.escape(script0) +
                         r': fileinto "Lists/foo"\)', inst.log())
        # the trace: each test and action with its line, only for user0
        assert wait_for(lambda: re.search(
            r"Debug: sieve: " + re.escape(script0) + r': line 2: header :matches '
            r'"List-Id" "\*<\*\.lists\.example\.org>": true', inst.log())), inst.log()
        assert re.search(r"Debug: sieve: .*: line 3: action: fileinto Lists/foo", inst.log())
        assert "lmtp(user1@example.com)" not in "".join(
            line for line in inst.log().splitlines() if "Debug" in line)
        assert wait_for(lambda: d.metric("loft_sieve_actions_total", action="fileinto") == 1)
        assert d.metric("loft_sieve_actions_total", action="keep") == 1
        assert d.metric("loft_sieve_script_errors_total") == 1
        entries = {e["user"]: e for e in d.json("/api/v1/deliveries")}
        assert entries[USER]["sieve"] == f'{script0}: fileinto "Lists/foo"'
        assert entries[USER]["mailbox"] == "Lists/foo"
        assert entries["user1@example.com"]["sieve"].endswith(": implicit keep")
        # journal entries survive in the disk journal with the summary
        out = ok(adm(inst, "deliveries", "--user", USER, fmt="json"))
        assert f'{script0}: fileinto \\"Lists/foo\\"' in out
    finally:
        d.stop()


FAKE_SENDMAIL = """#!/bin/sh
# records each call: its arguments, ids and the message
out="{dir}/sent.$$"
{{ echo "args: $*"; echo "uid: $(id -ru) $(id -u)"; cat; }} > "$out.tmp"
mv "$out.tmp" "$out"
exit {code}
"""


def fake_sendmail(root, code=0):
    """a sendmail_path program writing what it gets into root/sent/"""
    d = os.path.join(root, "sent")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    os.chmod(d, 0o777)
    path = os.path.join(root, "sendmail")
    with open(path, "w") as f:
        f.write(FAKE_SENDMAIL.format(dir=d, code=code))
    os.chmod(path, 0o755)
    return path, d


def sent(d):
    out = []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".tmp"):
            with open(os.path.join(d, name), "rb") as f:
                out.append(f.read())
    return out


@needs_root
def test_redirect(inst):
    """redirect hands the message to sendmail_path as the recipient, from
    the envelope sender, with X-Sieve-Redirected-From and without its
    Return-Path; the same message is not forwarded twice (loops); a
    sendmail that fails keeps the message"""
    path, d = fake_sendmail(inst.root)
    plugin = ""
    extra = f"sendmail_path = {path}\n"
    script = 'redirect "fwd@example.net";\n'
    msg = b"Return-Path: <old@example.org>\r\n" + MSG
    home = inst.home(USER)
    os.makedirs(home, exist_ok=True)
    write(os.path.join(home, ".dovecot.sieve"), script)
    make_home(home)
    conf(inst, plugin, extra)
    r = inst.lda("-e", "-d", USER, "-f", "sender@example.org", msg=msg)
    assert r.returncode == 0, r.stderr
    assert stored(inst.maildir(USER)) == {}
    [mail] = sent(d)
    head, _, rest = mail.partition(b"\n")
    assert head == b"args: -i -f sender@example.org -- fwd@example.net"
    uid_line, _, body = rest.partition(b"\n")
    assert uid_line == f"uid: {NOBODY.pw_uid} {NOBODY.pw_uid}".encode()
    assert body.startswith(b"X-Sieve: loft\nX-Sieve-Redirected-From: user0@example.com\n"
                           b"From: Sender <sender@example.org>\n")
    assert b"Return-Path" not in body and body.endswith(b"\n\nHello.\n")
    assert 'redirect "fwd@example.net"' in inst.log()
    # the same message again (a loop, or a second delivery): not sent,
    # and kept instead, as Pigeonhole does
    r = inst.lda("-e", "-d", USER, "-f", "sender@example.org", msg=msg)
    assert r.returncode == 0 and len(sent(d)) == 1
    assert list(stored(inst.maildir(USER))) == [("", "new", "")]
    assert 'redirect "fwd@example.net" (a duplicate: not sent again)' in inst.log()
    # a message that says it was redirected by this user: a loop, kept
    looped = b"X-Sieve-Redirected-From: user0@example.com\r\n" + \
        msg.replace(b"<s1@", b"<s9@")
    r = inst.lda("-e", "-d", USER, "-f", "sender@example.org", msg=looped)
    assert r.returncode == 0 and len(sent(d)) == 1
    assert len(stored(inst.maildir(USER))[("", "new", "")]) == 2
    assert "a loop, not sent" in inst.log()
    # :copy keeps it too; a failing sendmail keeps it and logs why
    write(os.path.join(home, ".dovecot.sieve"),
          'require "copy";\nredirect :copy "other@example.net";\n')
    r = inst.lda("-e", "-d", USER, "-f", "sender@example.org", msg=msg)
    assert r.returncode == 0 and len(sent(d)) == 2
    assert len(stored(inst.maildir(USER))[("", "new", "")]) == 3
    path, d = fake_sendmail(inst.root, code=75)
    write(os.path.join(home, ".dovecot.sieve"), 'redirect "third@example.net";\n')
    r = inst.lda("-e", "-d", USER, "-f", "sender@example.org", msg=msg)
    assert r.returncode == 0
    assert len(stored(inst.maildir(USER))[("", "new", "")]) == 4
    assert "failed to redirect to <third@example.net>" in inst.log() + inst.log("loft.log")
    if os.path.exists(DOVECOT_LDA):
        # Pigeonhole calls sendmail with the same arguments, as the user
        path, d = fake_sendmail(inst.root)
        assert dovecot_lda(inst.root, script, msg=msg,
                           extra=f"sendmail_path = {path}") == {}
        [theirs] = sent(d)
        assert theirs.split(b"\n")[:2] == mail.split(b"\n")[:2]


VACATION_SCRIPT = """\
    require "vacation";
    vacation :days 7 :subject "Away" "I am away until Monday.";
    """


def comparable(mail):
    """a sent mail without what differs between loft and Dovecot by
    design: X-Sieve, Message-ID and Date values, the MIME boundary (pid
    and host), the product name, CRLF"""
    mail = mail.replace(b"\r\n", b"\n")
    m = re.search(rb'boundary="([^"]*)"', mail)
    if m:
        mail = mail.replace(m.group(1), b"BOUNDARY")
    out = []
    for line in mail.split(b"\n"):
        name = line.split(b":", 1)[0].lower()
        if name in (b"x-sieve", b"message-id", b"date", b"uid"):
            line = name + b": *"
        out.append(line.replace(b"Dovecot Mail Delivery Agent",
                                b"loft Mail Delivery Agent"))
    return out


@needs_root
def test_vacation(inst):
    """vacation answers once per sender per period, from the null sender,
    with Auto-Submitted; never list mail or mail not addressed to the
    user"""
    path, d = fake_sendmail(inst.root)
    home = inst.home(USER)
    os.makedirs(home, exist_ok=True)
    write(os.path.join(home, ".dovecot.sieve"), VACATION_SCRIPT)
    make_home(home)
    conf(inst, "", f"sendmail_path = {path}\n")
    plain = MSG.replace(b"List-Id: Foo list <foo.lists.example.org>\r\n", b"")
    r = inst.lda("-e", "-d", USER, "-f", "sender@example.org", msg=plain)
    assert r.returncode == 0, r.stderr
    assert len(stored(inst.maildir(USER))[("", "new", "")]) == 1
    [reply] = sent(d)
    assert reply.startswith(b"args: -i -f <> -- sender@example.org\n")
    for line in (b"From: <user0@example.com>", b"To: Sender <sender@example.org>",
                 b"Subject: Away", b"In-Reply-To: <s1@example.org>",
                 b"References: <s1@example.org>",
                 b"Auto-Submitted: auto-replied (vacation)"):
        assert b"\n" + line + b"\n" in reply, (line, reply)
    assert reply.endswith(b"\n\nI am away until Monday.\n")
    if os.path.exists(DOVECOT_LDA):
        # Pigeonhole's reply: the same fields but its own ids and date
        path2, d2 = fake_sendmail(os.path.join(inst.root, "pigeonhole"))
        dovecot_lda(inst.root, VACATION_SCRIPT, msg=plain,
                    extra=f"sendmail_path = {path2}")
        [theirs] = sent(d2)
        assert comparable(theirs) == comparable(reply)
    assert "vacation sent" in inst.log()
    # once per sender per period
    r = inst.lda("-e", "-d", USER, "-f", "sender@example.org", msg=plain)
    assert r.returncode == 0 and len(sent(d)) == 1
    assert "already answered" in inst.log()
    # a list message (List-Id): kept, not answered
    r = inst.lda("-e", "-d", USER, "-f", "other@example.org", msg=MSG)
    assert r.returncode == 0 and len(sent(d)) == 1
    assert "vacation not sent: list mail" in inst.log()
    assert len(stored(inst.maildir(USER))[("", "new", "")]) == 3


@needs_root
def test_lmtp_redirect_and_vacation(inst):
    """over LMTP the worker thread's sendmail runs with the recipient's
    ids whole (not root's real uid), for redirect and vacation alike"""
    path, d = fake_sendmail(inst.root)
    home = inst.home(USER)
    os.makedirs(home, exist_ok=True)
    write(os.path.join(home, ".dovecot.sieve"), """\
        require ["vacation", "copy"];
        redirect :copy "fwd@example.net";
        vacation :days 1 "Away.";
        """)
    make_home(home)
    plain = MSG.replace(b"List-Id: Foo list <foo.lists.example.org>\r\n", b"")
    dmn = Daemon(inst, extra=SIEVE_CONF % "" + f"sendmail_path = {path}\n")
    dmn.start()
    try:
        assert lmtp(dmn.port, [USER], msg=plain)[USER][0] == 250
        mails = sent(d)
        assert len(mails) == 2
        uid = f"uid: {NOBODY.pw_uid} {NOBODY.pw_uid}".encode()
        assert all(m.split(b"\n")[1] == uid for m in mails)
        args = sorted(m.split(b"\n")[0] for m in mails)
        assert args == [b"args: -i -f <> -- sender@example.org",
                        b"args: -i -f sender@example.org -- fwd@example.net"]
        assert len(stored(inst.maildir(USER))[("", "new", "")]) == 1
        assert ': implicit keep, redirect "fwd@example.net", vacation sent)' in inst.log()
    finally:
        dmn.stop()


@needs_root
def test_reject_sends_rejection(inst):
    """loft-lda without -e answers a reject as dovecot-lda does: a
    rejection from the postmaster to the envelope sender (compared with
    dovecot-lda's), exit 0, nothing stored; nothing for the null sender;
    a rejection that cannot be sent keeps the mail"""
    path, d = fake_sendmail(inst.root)
    script = 'require "reject";\nreject "I do not want it";\n'
    extra = f"sendmail_path = {path}\nhostname = mx.example.com\n"
    args = ("-f", "sender@example.org", "-a", "orig@example.com")
    proc, got = loft_lda(inst, script, extra=extra, args=args)
    assert proc.returncode == 0, proc.stderr
    assert got == {}
    [mail] = sent(d)
    assert mail.startswith(b"args: -i -f <> -- sender@example.org\n")
    for line in (b"From: Postmaster <postmaster@example.com>", b"To: <sender@example.org>",
                 b"Subject: Rejected: [list] hello there",
                 b"Your message to <orig@example.com> was automatically rejected:",
                 b"I do not want it", b"Final-Recipient: rfc822; orig@example.com"):
        assert b"\n" + line + b"\n" in mail, (line, mail)
    assert ': rejected (sieve ' in inst.log() and 'rejection sent)' in inst.log()
    if os.path.exists(DOVECOT_LDA):
        path2, d2 = fake_sendmail(os.path.join(inst.root, "dovecot-sendmail"))
        assert dovecot_lda(inst.root, script, args=args,
                           extra=f"sendmail_path = {path2}\nhostname = mx.example.com") == {}
        [theirs] = sent(d2)
        assert comparable(theirs) == comparable(mail)
    # a reason of several lines in the subject stays one header line
    path, d = fake_sendmail(inst.root)
    proc, got = loft_lda(inst, 'require "reject";\nreject text:\nno\nX-Injected: 1\n.\n;\n',
                         extra=extra + "rejection_subject = Rejected: %r\n", args=args)
    assert proc.returncode == 0, proc.stderr
    [mail] = sent(d)
    head = mail.split(b"\n\n")[0]
    assert re.search(rb"\nSubject: Rejected: no +X-Injected: 1 *\n", head + b"\n"), head
    assert b"\nX-Injected" not in head
    # the null sender gets nothing; the message is gone, as in Dovecot
    path, d = fake_sendmail(inst.root)
    proc, got = loft_lda(inst, script, extra=extra, args=("-f", "<>"))
    assert proc.returncode == 0 and got == {} and sent(d) == []
    assert "not sending reject message to <>" in inst.log()
    # a rejection that cannot be handed over: the mail is kept
    path, d = fake_sendmail(inst.root, code=75)
    proc, got = loft_lda(inst, script, extra=f"sendmail_path = {path}\n", args=args)
    assert proc.returncode == 0 and list(got) == [("", "new", "")]
    assert "failed to send the rejection to <sender@example.org>" in \
        inst.log() + inst.log("loft.log")


REDIRECT_FROM = ["sender", "recipient", "orig_recipient", "user_email", "postmaster",
                 "\"<Bounces@Example.net>\"", "\"<>\""]


@needs_root
@pytest.mark.parametrize("source", REDIRECT_FROM)
def test_redirect_envelope_from(inst, source):
    """sieve_redirect_envelope_from (and sieve_user_email) give the
    redirect's envelope sender and X-Sieve-Redirected-From as Pigeonhole
    does"""
    path, d = fake_sendmail(inst.root)
    plugin = f"sieve_redirect_envelope_from = {source}\nsieve_user_email = me@example.com"
    script = 'redirect "fwd@example.net";\n'
    args = ("-f", "sender@example.org", "-a", "alias@example.com")
    proc, got = loft_lda(inst, script, plugin=plugin, extra=f"sendmail_path = {path}\n",
                         args=args)
    assert proc.returncode == 0 and got == {}, proc.stderr
    [mail] = sent(d)
    if os.path.exists(DOVECOT_LDA):
        path2, d2 = fake_sendmail(os.path.join(inst.root, "dovecot-sendmail"))
        dovecot_lda(inst.root, script, plugin=plugin, args=args,
                    extra=f"sendmail_path = {path2}")
        [theirs] = sent(d2)
        assert mail.split(b"\n")[0] == theirs.split(b"\n")[0]
        assert mail.split(b"\n")[3] == theirs.split(b"\n")[3]  # X-Sieve-Redirected-From
    # dovecot-lda's final recipient is -a when there is no -r
    want = {"sender": "sender@example.org", "recipient": "alias@example.com",
            "orig_recipient": "alias@example.com", "user_email": "me@example.com",
            "postmaster": "postmaster@example.com", "\"<Bounces@Example.net>\"":
            "bounces@example.net", "\"<>\"": "<>"}[source]
    assert mail.startswith(f"args: -i -f {want} -- fwd@example.net\n".encode())


PLAIN = MSG.replace(b"List-Id: Foo list <foo.lists.example.org>\r\n", b"")
# (plugin settings, message, loft-lda/dovecot-lda arguments)
VACATION_CASES = [
    ("", PLAIN, ()),
    ("sieve_vacation_use_original_recipient = yes",
     PLAIN.replace(b"To: user0@", b"To: alias@"), ("-a", "alias@example.com")),
    ("", PLAIN.replace(b"To: user0@", b"To: alias@"), ("-a", "alias@example.com")),
    ("sieve_vacation_dont_check_recipient = yes",
     PLAIN.replace(b"To: user0@", b"To: list@"), ()),
    ("sieve_vacation_send_from_recipient = yes", PLAIN, ()),
    ("sieve_vacation_default_subject_template = Away: %%$ for %u", PLAIN, ()),
    ("sieve_vacation_default_subject = Nothing to say",
     PLAIN.replace(b"Subject: [list] hello there\r\n", b""), ()),
    ("sieve_vacation_max_subject_codepoints = 10", PLAIN, ()),
    ("sieve_vacation_to_header_ignore_envelope = yes",
     PLAIN.replace(b"From: Sender <sender@", b"From: Other <other@"), ()),
    ("", PLAIN.replace(b"From: Sender <sender@", b"From: Other <other@"), ()),
    ("", PLAIN.replace(b"\r\n\r\n", b"\r\nX-Auto-Response-Suppress: DR, OOF\r\n\r\n", 1), ()),
    ("", PLAIN.replace(b"To: user0@", b"To: robert@"), ()),
    ("", PLAIN.replace(b"[list] hello there", (b"a rather long subject line " * 5).strip()), ()),
    ("", PLAIN.replace(b"[list] hello there", ("Grüße aus München, " * 6).strip().encode()), ()),
    ("", PLAIN.replace(b"[list] hello there", "日本語のテキストです。".encode() * 6), ()),
    ("", PLAIN.replace(b"[list] hello there", b"=?utf-8?q?Gr=C3=BC=C3=9Fe?= =?ISO-8859-1?Q?M=FCnchen?="), ()),
    ("", PLAIN.replace(b"Message-ID:", b"References: " + b" ".join(
        b"<ref%d.longer.id@lists.example.org>" % i for i in range(8)) + b"\r\nMessage-ID:"), ()),
    ("from=Jörg <away@example.com>", PLAIN, ()),
    ("from=away@example.com", PLAIN, ()),
    ("from=Away Person <away@example.com>", PLAIN, ()),
]


@needs_root
@pytest.mark.parametrize("plugin,msg,args", VACATION_CASES)
def test_vacation_settings_match_pigeonhole(inst, plugin, msg, args):
    """the sieve_vacation_* settings: whether a reply goes out, from
    which addresses, to whom, with which subject, as Pigeonhole's"""
    if not os.path.exists(DOVECOT_LDA):
        pytest.skip("dovecot-lda is not installed")
    script = 'require "vacation";\nvacation :addresses "robert@example.com" "Away.";\n'
    if plugin.startswith("from="):
        script = script.replace(":addresses", f":from \"{plugin[5:]}\" :addresses")
        plugin = ""
    args = ("-f", "sender@example.org") + args
    path, d = fake_sendmail(inst.root)
    proc, got = loft_lda(inst, script, plugin=plugin, msg=msg, args=args,
                         extra=f"sendmail_path = {path}\n")
    assert proc.returncode == 0, proc.stderr
    path2, d2 = fake_sendmail(os.path.join(inst.root, "dovecot-sendmail"))
    dovecot_lda(inst.root, script, plugin=plugin, msg=msg, args=args,
                extra=f"sendmail_path = {path2}")
    assert [comparable(m) for m in sent(d)] == [comparable(m) for m in sent(d2)]


# (plugin settings, script): stored as Pigeonhole stores
LIMIT_CASES = [
    ("sieve_max_redirects = 0", 'require ["fileinto", "mailbox"];\n'
     'fileinto :create "F";\nif false { redirect "a@example.com"; }\n'),
    ("sieve_max_redirects = 0", 'require ["fileinto", "mailbox"];\n'
     'fileinto :create "F";\nredirect "a@example.com";\n'),
    ("sieve_max_redirects = 0", 'require ["fileinto", "mailbox", "variables"];\n'
     'set "a" "a@example.com";\nfileinto :create "F";\nif false { redirect "${a}"; }\n'),
    ("sieve_max_redirects = 0", 'require ["fileinto", "mailbox", "variables"];\n'
     'set "a" "a@example.com";\nfileinto :create "F";\nredirect "${a}";\n'),
    ("sieve_max_actions = 0", 'require ["fileinto", "mailbox"];\n' +
     "".join(f'fileinto :create "F{i}";\n' for i in range(40))),
    ("sieve_max_actions = 2", 'require ["fileinto", "mailbox"];\n'
     'fileinto :create "A";\nfileinto :create "B";\nfileinto :create "C";\n'),
    ("sieve_max_script_size = 20", 'require ["fileinto", "mailbox"];\n'
     'fileinto :create "A";\n'),
    ("sieve_extensions = -fileinto", 'require ["fileinto", "mailbox"];\n'
     'fileinto :create "A";\n'),
    ("sieve_extensions = fileinto -mailbox", 'require ["fileinto", "body"];\n'
     'if body :contains "Hello" { fileinto "INBOX"; }\n'),
    ("sieve_extensions = fileinto mailbox", 'require ["fileinto", "mailbox", "body"];\n'
     'fileinto :create "A";\n'),
    ("sieve_extensions = fileinto mailbox", 'require ["fileinto", "mailbox"];\n'
     'fileinto :create "A";\n'),
]


@needs_root
@pytest.mark.parametrize("plugin,script", LIMIT_CASES)
def test_limit_settings_match_pigeonhole(inst, plugin, script):
    proc, got = loft_lda(inst, script, plugin=plugin)
    assert proc.returncode == 0, proc.stderr
    if not os.path.exists(DOVECOT_LDA):
        pytest.skip("dovecot-lda is not installed")
    assert got == dovecot_lda(inst.root, script, plugin=plugin)


@needs_root
def test_sieve_settings_checked(inst):
    """values Pigeonhole would ignore with a warning, and the settings
    loft does not implement, are errors naming the line"""
    for setting, error in [
            ("sieve_vacation_min_period = 1w", "sieve_vacation_min_period: invalid duration '1w'"),
            ("sieve_vacation_max_period = 1d\n  sieve_vacation_min_period = 2d",
             "sieve_vacation_min_period <= sieve_vacation_default_period"),
            ("sieve_redirect_envelope_from = bogus", "is none of sender"),
            ("sieve_vacation_dont_check_recipient = maybe", "invalid boolean 'maybe'"),
            ("sieve_user_email = not an address", "invalid address"),
            ("sieve_vacation_default_subject_template = Re: %$",
             "sieve_vacation_default_subject_template: "),
            ("sieve_notify_mailto_envelope_from = sender", "not supported by loft"),
    ]:
        inst.write_conf(extra=SIEVE_CONF % setting)
        r = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1, setting
        assert error in r.stderr and re.match(re.escape(inst.conf) + r":\d+: ", r.stderr), \
            r.stderr
    for setting, error in [
            ("submission_host = host:99999", "submission_host: invalid host[:port]"),
            ("postmaster_address = pm@%{nosuch}", "postmaster_address: "),
            ("rejection_subject = Rejected: %x", "rejection_subject: "),
    ]:
        inst.write_conf(extra=SIEVE_CONF % "" + setting + "\n")
        r = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and error in r.stderr, (setting, r.stderr)
    # Dovecot's own default, as doveconf -a prints it, is accepted
    inst.write_conf(extra=SIEVE_CONF % "" +
                    "postmaster_address = postmaster@%{if;%d;ne;;%d;%{hostname}}\n")
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    inst.write_conf(extra=SIEVE_CONF % "submission_ssl = no" + "submission_ssl = yes\n")
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "submission_ssl" in r.stderr, r.stderr


def smtp_sink(root, port, *options):
    """Postfix's smtp-sink on port, dumping every transaction into
    root/dump; the process"""
    dump = os.path.join(root, "dump")
    if os.path.exists(dump):
        os.unlink(dump)
    os.makedirs(root, exist_ok=True)
    os.chmod(root, 0o777)
    proc = subprocess.Popen(["smtp-sink", "-u", "nobody", *options, "-D", dump,
                             f"127.0.0.1:{port}", "10"])
    assert wait_for(lambda: port_open(port)), "smtp-sink did not start"
    return proc, dump


def port_open(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


@needs_root
@pytest.mark.skipif(shutil.which("smtp-sink") is None, reason="needs Postfix's smtp-sink")
def test_submission_host(inst):
    """with submission_host, redirect and vacation go to that SMTP server
    (Postfix's smtp-sink) instead of sendmail_path; a server that refuses
    or is not there leaves the mail kept and the failure logged"""
    port = free_port()
    sink, dump = smtp_sink(os.path.join(inst.root, "sink"), port)
    script = 'require ["vacation", "copy"];\nredirect :copy "fwd@example.net";\n' \
             'vacation "Away.";\n'
    extra = f"submission_host = 127.0.0.1:{port}\nsendmail_path = /nonexistent\n"
    try:
        proc, got = loft_lda(inst, script, msg=b".dot\r\n" + PLAIN, extra=extra)
        assert proc.returncode == 0, proc.stderr
        assert list(got) == [("", "new", "")]
        assert wait_for(lambda: os.path.exists(dump) and
                        open(dump, "rb").read().count(b"X-Client-Addr") == 2)
        with open(dump, "rb") as f:
            text = f.read()
        first, second = text.split(b"X-Client-Addr: ")[1:]
        assert b"X-Client-Proto: ESMTP\n" in first
        assert b"X-Mail-Args: <sender@example.org>\nX-Rcpt-Args: <fwd@example.net>\n" in first
        assert b"X-Sieve-Redirected-From: user0@example.com\n" in first
        assert b"\n.dot\n" in first or b"\n\n.dot" in first or first.count(b".dot") == 1
        assert b"X-Mail-Args: <>\nX-Rcpt-Args: <sender@example.org>\n" in second
        assert b"Auto-Submitted: auto-replied (vacation)" in second
    finally:
        sink.terminate()
        sink.wait()
    # a server refusing the recipient (5xx): the redirect fails, the mail
    # is kept
    sink, dump = smtp_sink(os.path.join(inst.root, "sink"), port, "-f", "RCPT")
    try:
        proc, got = loft_lda(inst, 'redirect "fwd@example.net";\n', extra=extra)
        assert proc.returncode == 0 and list(got) == [("", "new", "")]
        assert re.search(r"failed to redirect to <fwd@example.net>: RCPT TO: 5\d\d ",
                         inst.log() + inst.log("loft.log"))
    finally:
        sink.terminate()
        sink.wait()
    # over LMTP too: the worker thread talks SMTP to the same server
    sink, dump = smtp_sink(os.path.join(inst.root, "sink"), port)
    write(os.path.join(inst.home(USER), ".dovecot.sieve"), script)
    dmn = Daemon(inst, extra=SIEVE_CONF % "" + extra)
    dmn.start()
    try:
        assert lmtp(dmn.port, [USER], msg=PLAIN)[USER][0] == 250
        assert wait_for(lambda: os.path.exists(dump) and
                        open(dump, "rb").read().count(b"X-Client-Addr") == 2)
        with open(dump, "rb") as f:
            text = f.read()
        assert b"X-Rcpt-Args: <fwd@example.net>" in text
        assert b"X-Mail-Args: <>\nX-Rcpt-Args: <sender@example.org>" in text
    finally:
        dmn.stop()
        sink.terminate()
        sink.wait()
    # a server that never answers: submission_timeout bounds the wait
    import socket
    import time
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        start = time.monotonic()
        proc, got = loft_lda(inst, 'redirect "fwd@example.net";\n',
                             extra=f"submission_host = 127.0.0.1:{silent.getsockname()[1]}\n"
                             "submission_timeout = 1s\n")
        assert time.monotonic() - start < 10
    assert proc.returncode == 0 and list(got) == [("", "new", "")]
    assert "greeting: timed out waiting for a reply" in inst.log() + inst.log("loft.log")
    # nobody listening
    proc, got = loft_lda(inst, 'redirect "fwd@example.net";\n', extra=extra)
    assert proc.returncode == 0 and list(got) == [("", "new", "")]
    assert "connect(127.0.0.1:%d) failed" % port in inst.log() + inst.log("loft.log")


@needs_root
@pytest.mark.parametrize("form", ["file:{}", "{}", "file:{};bindir=/nonexistent"])
def test_sieve_global_location(inst, form):
    """sieve_global as Pigeonhole 0.5 reads it (a file: location or a
    folder): include :global finds its scripts there"""
    glob = os.path.join(inst.root, "global-scripts")
    os.makedirs(glob, exist_ok=True)
    os.chmod(glob, 0o755)
    write(os.path.join(glob, "lists.sieve"),
          'require ["fileinto", "mailbox"];\nfileinto :create "FromGlobal";\n', owner=False)
    script = 'require "include";\ninclude :global "lists";\n'
    plugin = "sieve_global = " + form.format(glob)
    proc, got = loft_lda(inst, script, plugin=plugin)
    assert proc.returncode == 0, proc.stderr
    assert list(got) == [(".FromGlobal", "new", "")], inst.log("loft.log")
    if os.path.exists(DOVECOT_LDA):
        assert got == dovecot_lda(inst.root, script, plugin=plugin)
