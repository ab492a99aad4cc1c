"""`loftadm sieve test USER MESSAGE`: the scripts a delivery runs for the
user (sieve_before..., the active script or sieve_default, sieve_after...),
found through the same userdb lookup a delivery makes and plugin { sieve* }
(userdb sieve* fields over it), run on a message file without delivering
it: each script's path and actions, then what the delivery would do. As
root the scripts are read and run with the user's uid."""
import os
import subprocess

from conftest import NOBODY, binary, is_root

SPAM = (b"From: promo@spammer.example\nTo: user0@example.com\n"
        b"Subject: [SPAM] cheap\nX-Spam-Flag: YES\n\nbuy\n")
LIST = (b"From: erin@example.edu\nTo: foo-users@lists.example.org\n"
        b"Subject: release\nList-Id: Foo <foo-users.lists.example.org>\n\nhi\n")


def sieve_test(inst, user, message, expect=0):
    path = os.path.join(inst.root, "message.eml")
    with open(path, "wb") as f:
        f.write(message)
    r = subprocess.run([binary("loftadm"), "-c", inst.conf, "sieve", "test",
                        user, path], capture_output=True, text=True, timeout=60)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    assert r.returncode == expect, (r.returncode, r.stdout, r.stderr)
    return r


def write_script(inst, user, rel, text, mode=0o644):
    """A file in the user's home, owned by the user (nobody) as root."""
    path = os.path.join(inst.home(user), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if is_root():
        for p in (inst.home(user), os.path.dirname(path), path):
            os.chown(p, NOBODY.pw_uid, NOBODY.pw_gid)
        os.chown(os.path.dirname(inst.home(user)), NOBODY.pw_uid, NOBODY.pw_gid)
    return path


def test_default_location_spam_folder(inst):
    # Pigeonhole's default: file:~/sieve;active=~/.dovecot.sieve; as root
    # a script only its owner may read proves the uid switch
    path = write_script(inst, "user0@example.com", ".dovecot.sieve",
                        'require "fileinto";\n'
                        'if header :contains "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }\n',
                        mode=0o600)
    r = sieve_test(inst, "user0@example.com", SPAM)
    assert r.stdout.splitlines() == ["script: " + path, "store Junk",
                                     'result: fileinto "Junk"']
    r = sieve_test(inst, "user0@example.com", LIST)
    assert r.stdout.splitlines() == ["script: " + path, "implicit-keep INBOX",
                                     "result: implicit keep"]


def test_no_script_keeps(inst):
    r = sieve_test(inst, "user1@example.com", SPAM)
    assert r.stdout.splitlines() == [
        "no script to run (no active script, sieve_default, sieve_before or sieve_after)",
        "result: implicit keep"]


def test_location_include_and_limits(inst):
    home = inst.home("user0@example.com")
    write_script(inst, "user0@example.com", "sieve/lists.sieve",
                 'require ["fileinto", "variables"];\n'
                 'if header :matches "List-Id" "*<*.lists.example.org>" '
                 '{ fileinto "Lists.${2}"; }\n')
    write_script(inst, "user0@example.com", "sieve/main.sieve",
                 'require ["include"];\ninclude :personal "lists";\n'
                 'if exists "x-spam-flag" { redirect "a@example.net"; redirect "b@example.net"; }\n')
    inst.write_conf(extra="""
        plugin {
          sieve = file:~/sieve;active=~/sieve/main.sieve
          sieve_max_redirects = 1
        }""")
    r = sieve_test(inst, "user0@example.com", LIST)
    assert r.stdout.splitlines() == ["script: " + home + "/sieve/main.sieve",
                                     "store Lists.foo-users",
                                     'result: fileinto "Lists.foo-users"']
    # two redirects over sieve_max_redirects = 1: a runtime error keeps
    r = sieve_test(inst, "user0@example.com", SPAM, expect=1)
    assert r.stdout.splitlines()[1:] == ["error", "implicit-keep INBOX",
                                         "result: implicit keep"]
    assert "exceeds policy limit" in r.stderr


def test_extensions_setting(inst):
    # editheader is off unless sieve_extensions adds it, as in Pigeonhole
    write_script(inst, "user0@example.com", ".dovecot.sieve",
                 'require "editheader";\naddheader "X-A" "b";\n')
    r = sieve_test(inst, "user0@example.com", SPAM, expect=65)
    assert r.stdout.splitlines()[1:] == ["compile-error", "result: implicit keep"]
    assert "unknown extension 'editheader'" in r.stderr
    inst.write_conf(extra="plugin {\n  sieve_extensions = +editheader\n}")
    r = sieve_test(inst, "user0@example.com", SPAM)
    assert r.stdout.splitlines()[1:] == ["implicit-keep INBOX", "result: implicit keep"]


def test_userdb_field_overrides(inst):
    inst.add_user("user2@example.com",
                  extra="userdb_sieve=file:~/rules;active=~/rules/active.sieve")
    home = inst.home("user2@example.com")
    write_script(inst, "user2@example.com", "rules/active.sieve", "discard;\n")
    r = sieve_test(inst, "user2@example.com", SPAM)
    assert r.stdout.splitlines() == ["script: " + home + "/rules/active.sieve",
                                     "discard", "result: discard"]


def test_refusals(inst):
    sieve_test(inst, "nosuch@example.com", SPAM, expect=67)
    inst.write_conf(extra="plugin {\n  sieve_plugins = sieve_extprograms\n}")
    r = sieve_test(inst, "user0@example.com", SPAM, expect=75)
    assert "sieve_plugins is not supported" in r.stderr
    r = subprocess.run([binary("loftadm"), "-c", inst.conf, "sieve", "test",
                        "user0@example.com", "/nonexistent"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 66


def test_runs_as_the_user(inst):
    if not is_root():
        return
    # a script the user cannot read (root's, 0600): a loftadm that kept
    # root's ids would read it
    path = write_script(inst, "user0@example.com", ".dovecot.sieve", "discard;\n",
                        mode=0o600)
    os.chown(path, 0, 0)
    r = sieve_test(inst, "user0@example.com", SPAM, expect=75)
    assert "Permission denied" in r.stderr


def test_vacation_explained(inst):
    # the envelope sender is the message's own (Return-Path, Sender, From)
    write_script(inst, "user0@example.com", ".dovecot.sieve",
                 'require "vacation";\nvacation :days 3 "Away.";\n')
    plain = (b"Return-Path: <alice@example.org>\nFrom: alice@example.org\n"
             b"To: user0@example.com\nSubject: hi\n\nhello\n")
    r = sieve_test(inst, "user0@example.com", plain)
    assert r.stdout.splitlines()[1:] == ["vacation seconds=259200", "implicit-keep INBOX",
                                         "result: implicit keep, vacation sent"]
    r = sieve_test(inst, "user0@example.com", LIST)
    assert r.stdout.splitlines()[-1] == "result: implicit keep, vacation not sent: list mail"


def test_script_bytes_reach_no_terminal(inst):
    """A local user's script is run by root through loftadm sieve test:
    the compile error quotes it, and its ESC and BEL bytes are shown as
    \\xHH instead of reaching root's terminal (issue 10, point 7)."""
    write_script(inst, "user0@example.com", ".dovecot.sieve",
                 'require "\x1b]0;pwned\x07\x1b[2J";\n')
    r = sieve_test(inst, "user0@example.com", SPAM, expect=65)
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr, r.stderr
    assert "unknown extension '\\x1b]0;pwned\\x07\\x1b[2J'" in r.stderr, r.stderr


def test_the_delivery_sequence(inst):
    """The scripts a delivery runs, in its order, each with its actions:
    sieve_before (a folder of scripts), the personal script, sieve_after;
    a script that cancels the implicit keep ends the sequence; without a
    personal script, sieve_default. A dry run: nothing is stored, sent,
    tracked or written to the user's log."""
    user = "user0@example.com"
    home = inst.home(user)
    before = os.path.join(inst.root, "before.d")
    os.makedirs(before)
    with open(os.path.join(before, "10-archive.sieve"), "w") as f:
        f.write('require ["fileinto", "copy"];\nfileinto :copy "Archive";\n')
    with open(os.path.join(before, "20-tag.sieve"), "w") as f:
        f.write('if address :is "from" "boss@example.com" { keep; }\n')
    after = os.path.join(inst.root, "after.sieve")
    with open(after, "w") as f:
        f.write('require "fileinto";\nif exists "List-Id" { fileinto "Lists"; }\n')
    default = os.path.join(inst.root, "default.sieve")
    with open(default, "w") as f:
        f.write('require "reject";\nreject "no personal script";\n')
    marker = os.path.join(inst.root, "sendmail-ran")
    sendmail = os.path.join(inst.root, "sendmail")
    with open(sendmail, "w") as f:
        f.write(f"#!/bin/sh\ntouch {marker}\ncat >/dev/null\n")
    os.chmod(sendmail, 0o755)
    inst.write_conf(extra=f"""
        sendmail_path = {sendmail}
        plugin {{
          sieve_before = {before}
          sieve_after = file:{after}
          sieve_default = {default}
        }}""")
    personal = write_script(inst, user, ".dovecot.sieve",
                            'require ["vacation"];\n'
                            'if header :contains "X-Spam-Flag" "YES" { discard; stop; }\n'
                            'vacation :days 3 "Away.";\n')
    r = sieve_test(inst, user, LIST)
    assert r.stdout.splitlines() == [
        "script: " + os.path.join(before, "10-archive.sieve"),
        "store Archive copy", "implicit-keep INBOX",
        "script: " + os.path.join(before, "20-tag.sieve"), "implicit-keep INBOX",
        "script: " + personal, "vacation seconds=259200", "implicit-keep INBOX",
        "script: " + after, "store Lists",
        'result: fileinto "Archive", vacation not sent: list mail, fileinto "Lists"']
    # a script that keeps explicitly ends the sequence
    boss = b"From: boss@example.com\nTo: user0@example.com\nList-Id: <a.b>\n\nhi\n"
    r = sieve_test(inst, user, boss)
    assert r.stdout.splitlines() == [
        "script: " + os.path.join(before, "10-archive.sieve"),
        "store Archive copy", "implicit-keep INBOX",
        "script: " + os.path.join(before, "20-tag.sieve"), "store INBOX",
        'result: fileinto "Archive", keep']
    # the personal script discards: sieve_after does not run
    r = sieve_test(inst, user, SPAM)
    assert r.stdout.splitlines() == [
        "script: " + os.path.join(before, "10-archive.sieve"),
        "store Archive copy", "implicit-keep INBOX",
        "script: " + os.path.join(before, "20-tag.sieve"), "implicit-keep INBOX",
        "script: " + personal, "discard",
        'result: fileinto "Archive", discard']
    # a vacation that would be sent: not sent, not remembered
    plain = (b"Return-Path: <alice@example.org>\nFrom: alice@example.org\n"
             b"To: user0@example.com\nSubject: hi\n\nhello\n")
    for _ in range(2):
        r = sieve_test(inst, user, plain)
        assert r.stdout.splitlines()[-1] == ('result: fileinto "Archive", '
                                             'vacation sent, implicit keep')
    # a personal script that fails: reported, the user's log untouched
    with open(personal, "w") as f:
        # more redirects than sieve_max_redirects (4)
        f.write("".join(f'redirect "x{i}@example.net";\n' for i in range(5)))
    r = sieve_test(inst, user, LIST, expect=1)
    assert r.stdout.splitlines()[5:] == [
        "script: " + personal, "error", "implicit-keep INBOX",
        'result: fileinto "Archive", implicit keep']
    assert "loftadm: " + personal + ": " in r.stderr
    # no personal script: sieve_default, whose reject ends the sequence
    os.unlink(personal)
    r = sieve_test(inst, user, LIST)
    assert r.stdout.splitlines()[5:] == [
        "script: " + default, "reject no personal script",
        'result: fileinto "Archive", reject "no personal script"']
    assert not os.path.exists(marker)
    assert sorted(os.listdir(home)) == []
