"""`loftadm sieve test USER MESSAGE`: the user's active Sieve script, found
through the same userdb lookup a delivery makes and plugin { sieve* }
(userdb sieve* fields over it), run on a message file without delivering
it; the actions are printed. As root the script is read and run with the
user's uid."""
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
    assert r.stdout.splitlines() == ["script: " + path, "store Junk"]
    r = sieve_test(inst, "user0@example.com", LIST)
    assert r.stdout.splitlines() == ["script: " + path, "implicit-keep INBOX"]


def test_no_script_keeps(inst):
    r = sieve_test(inst, "user1@example.com", SPAM)
    assert r.stdout.splitlines()[1:] == ["no active script", "implicit-keep INBOX"]


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
                                     "store Lists.foo-users"]
    # two redirects over sieve_max_redirects = 1: a runtime error keeps
    r = sieve_test(inst, "user0@example.com", SPAM, expect=1)
    assert r.stdout.splitlines()[1:] == ["error", "implicit-keep INBOX"]
    assert "exceeds policy limit" in r.stderr


def test_extensions_setting(inst):
    # editheader is off unless sieve_extensions adds it, as in Pigeonhole
    write_script(inst, "user0@example.com", ".dovecot.sieve",
                 'require "editheader";\naddheader "X-A" "b";\n')
    r = sieve_test(inst, "user0@example.com", SPAM, expect=65)
    assert r.stdout.splitlines()[1:] == ["compile-error"]
    assert "unknown extension 'editheader'" in r.stderr
    inst.write_conf(extra="plugin {\n  sieve_extensions = +editheader\n}")
    r = sieve_test(inst, "user0@example.com", SPAM)
    assert r.stdout.splitlines()[1:] == ["implicit-keep INBOX"]


def test_userdb_field_overrides(inst):
    inst.add_user("user2@example.com",
                  extra="userdb_sieve=file:~/rules;active=~/rules/active.sieve")
    home = inst.home("user2@example.com")
    write_script(inst, "user2@example.com", "rules/active.sieve", "discard;\n")
    r = sieve_test(inst, "user2@example.com", SPAM)
    assert r.stdout.splitlines() == ["script: " + home + "/rules/active.sieve",
                                     "discard"]


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
                                         "=> vacation sent"]
    r = sieve_test(inst, "user0@example.com", LIST)
    assert r.stdout.splitlines()[-1] == "=> vacation not sent: list mail"


def test_script_bytes_reach_no_terminal(inst):
    """A local user's script is run by root through loftadm sieve test:
    the compile error quotes it, and its ESC and BEL bytes are shown as
    \\xHH instead of reaching root's terminal (issue 10, point 7)."""
    write_script(inst, "user0@example.com", ".dovecot.sieve",
                 'require "\x1b]0;pwned\x07\x1b[2J";\n')
    r = sieve_test(inst, "user0@example.com", SPAM, expect=65)
    assert "\x1b" not in r.stderr and "\x07" not in r.stderr, r.stderr
    assert "unknown extension '\\x1b]0;pwned\\x07\\x1b[2J'" in r.stderr, r.stderr
