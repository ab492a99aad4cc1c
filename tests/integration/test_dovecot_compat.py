"""An existing Dovecot configuration read as-is (issue 12, points 1-2).

Debian's stock dovecot.conf with its conf.d and the reference capture's
own configuration (tests/fixtures/) pass `loftd --check` and `-n`, which
name every Dovecot setting and section loft does not use, once, with its
FILE:LINE; loftd logs that list once at start-up and serves none of the
foreign services' listeners. What would change what happens to a message
and that loft does not implement is an error with FILE:LINE: loftd
--check exits 1, loft-lda exits 75 (EX_TEMPFAIL, as dovecot-lda does for a
missing plugin) and delivers nothing.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import textwrap

from conftest import Daemon, binary, free_port, wait_for

FIXTURES = os.path.join(os.environ.get(
    "LOFT_SOURCE", os.path.join(os.path.dirname(__file__), "../..")), "tests/fixtures")
EX_TEMPFAIL = 75


def loftd(conf, *args):
    return subprocess.run([binary("loftd"), "-c", conf, *args],
                          capture_output=True, text=True, timeout=60)


def copy_fixture(name, dest):
    """The fixture folder name copied into dest, with @DIR@ replaced by
    dest (the reference capture's temporary folder). Debian's files name
    the certificate and key its postinst creates in /etc/dovecot/private
    (a snakeoil pair): the copy names a self-signed pair made under dest
    instead, the one change made to the stock files."""
    target = os.path.join(dest, name)
    shutil.copytree(os.path.join(FIXTURES, name), target)
    private = os.path.join(dest, "private")
    os.makedirs(private, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-subj", "/CN=localhost", "-days", "2",
                    "-keyout", os.path.join(private, "dovecot.key"),
                    "-out", os.path.join(private, "dovecot.pem")],
                   check=True, capture_output=True)
    for folder, _, files in os.walk(target):
        for f in files:
            path = os.path.join(folder, f)
            with open(path) as fh:
                text = fh.read()
            text = text.replace("@DIR@", dest)
            text = text.replace("/etc/dovecot/private/", private + "/")
            with open(path, "w") as fh:
                fh.write(text)
    return target


def wrapper(inst, main):
    """A config that includes main as it is and then sets only what this
    machine needs: an existing unprivileged user for loft's internal
    services (the stock default `loft` is created by loft's package, the
    reference ran them as root, which loft refuses) and private folders."""
    path = os.path.join(inst.root, "wrapper.conf")
    with open(path, "w") as f:
        f.write(textwrap.dedent(f"""\
            !include {main}
            base_dir = {inst.root}/run
            state_dir = {inst.root}/state
            default_internal_user = nobody
            """))
    return path


def not_used(stdout):
    """--check's "FILE:LINE: NAME: not used by loft" lines as {NAME: FILE:LINE}"""
    found = {}
    for line in stdout.splitlines():
        m = re.fullmatch(r"(.+:\d+): (.+): not used by loft", line)
        assert m, f"unexpected --check output line: {line!r}"
        assert m.group(2) not in found, f"{m.group(2)} listed twice"
        found[m.group(2)] = m.group(1)
    return found


def test_debian_stock_config_check(inst):
    debian = copy_fixture("dovecot-debian", inst.root)
    r = loftd(wrapper(inst, os.path.join(debian, "dovecot.conf")), "--check")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    found = not_used(r.stdout)
    conf_d = os.path.join(debian, "conf.d")
    want = {
        "dict": os.path.join(debian, "dovecot.conf") + ":90",
        "auth_mechanisms": conf_d + "/10-auth.conf:100",
        "passdb": conf_d + "/auth-system.conf.ext:10",
        "namespace inbox": conf_d + "/10-mail.conf:42",
        "service imap-login": conf_d + "/10-director.conf:47",
        "service imap": conf_d + "/10-master.conf:67",
        "service dict": conf_d + "/10-master.conf:122",
    }
    for name, where in want.items():
        assert found.get(name) == where, (name, found)
    # what loft runs is not in the list
    assert not any(k.startswith(("service lmtp", "userdb", "protocol l"))
                   for k in found), found


def test_debian_stock_config_dump(inst):
    debian = copy_fixture("dovecot-debian", inst.root)
    conf = wrapper(inst, os.path.join(debian, "dovecot.conf"))
    r = loftd(conf, "-n")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # the settings loft honours, as the stock files set them
    assert "mail_location = mbox:~/mail:INBOX=/var/mail/%u\n" in out
    assert "mail_privileged_group = mail\n" in out
    assert re.search(r"^userdb passwd \{\n  driver = passwd\n\}$", out, re.M)
    assert re.search(r"^service lmtp \{\n  unix_listener lmtp \{", out, re.M)
    # the rest is named once, as comments, and never as settings
    assert "# Dovecot settings in the file that loft does not use:\n" in out
    assert out.count("#   auth_mechanisms (") == 1
    assert "#   service imap-login (" in out
    assert not re.search(r"^(auth_mechanisms|passdb|namespace)\b", out, re.M)
    assert not re.search(r"^service (imap|dict|director)", out, re.M)
    # -n reads back as a loft config (-P: with the TLS key, which -n hides)
    r = loftd(conf, "-n", "-P")
    assert r.returncode == 0, r.stderr
    dumped = os.path.join(inst.root, "dumped.conf")
    with open(dumped, "w") as f:
        f.write(r.stdout)
    r = loftd(dumped, "--check")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""


def test_reference_instance_config(inst):
    ref = copy_fixture("dovecot-reference", inst.root)
    conf = wrapper(inst, os.path.join(ref, "dovecot.conf"))
    r = loftd(conf, "--check")
    assert r.returncode == 0, r.stderr
    found = not_used(r.stdout)
    main = os.path.join(ref, "dovecot.conf")
    for name, line in [("instance_name", 6), ("auth_mechanisms", 24),
                       ("passdb", 25), ("metric lmtp_mail_delivery", 46),
                       ("metric userdb_lookup", 61)]:
        assert found.get(name) == f"{main}:{line}", (name, found)
    r = loftd(conf, "-n")
    assert r.returncode == 0, r.stderr
    assert f"mail_home = {inst.root}/vmail/%d/%n\n" in r.stdout
    assert "    port = 24240\n" in r.stdout
    assert "mail_uid = nobody\n" in r.stdout
    assert "mail_fsync" not in r.stdout  # optimized, the default


def test_reference_doveconf_all(inst):
    """Every setting `doveconf -a` printed for the reference instance,
    with Dovecot's values, and the blocks of every service loft does not
    run."""
    ref = copy_fixture("dovecot-reference", inst.root)
    conf = wrapper(inst, os.path.join(ref, "doveconf-all.conf"))
    r = loftd(conf, "--check")
    assert r.returncode == 0, r.stderr
    found = not_used(r.stdout)
    assert len(found) > 250
    for name in ["auth_anonymous_username", "mail_save_crlf",
                 "service imap-login", "service anvil",
                 "userdb: result_success"]:
        assert name in found, name
    r = loftd(conf, "-n")
    assert r.returncode == 0, r.stderr


def test_misspelt_setting_is_an_error(inst):
    debian = copy_fixture("dovecot-debian", inst.root)
    local = os.path.join(debian, "local.conf")
    with open(local, "w") as f:
        f.write("# local changes\nauth_mechanism = plain login\n")
    r = loftd(wrapper(inst, os.path.join(debian, "dovecot.conf")), "--check")
    assert r.returncode == 1
    assert r.stderr.strip() == f"{local}:2: Unknown setting: auth_mechanism"


def test_refused_settings_check(inst):
    cases = [
        ("mail_plugins = $mail_plugins mail_crypt\n",
         ":1: mail_plugins: mail_crypt: loft does not implement this plugin"),
        ("protocol lda {\n  mail_plugins = $mail_plugins acl\n}\n",
         ":2: mail_plugins: acl: loft does not implement this plugin"),
        ("mail_save_crlf = yes\n", ":1: mail_save_crlf = yes: loft does not implement"),
        ("namespace inbox {\n  separator = /\n}\n",
         ":2: separator = /: loft does not implement"),
    ]
    check_refused(inst, cases)


def check_refused(inst, cases):
    """each (config text, message) of cases fails loftd --check with
    that message at FILE:LINE of the included file"""
    extra = os.path.join(inst.root, "extra.conf")
    for text, want in cases:
        with open(extra, "w") as f:
            f.write(text)
        inst.write_conf(extra=f"!include {extra}\n")
        r = loftd(inst.conf, "--check")
        assert r.returncode == 1, text
        assert r.stderr.startswith(extra + want), (text, r.stderr)


def test_debian_ssl_settings(inst):
    """Debian's 10-ssl.conf is read by loft's TLS: ssl = yes with the
    certificate and key of the install, and ssl_client_ca_dir for the LMTP
    proxy's backends."""
    debian = copy_fixture("dovecot-debian", inst.root)
    r = loftd(wrapper(inst, os.path.join(debian, "dovecot.conf")), "--check")
    assert r.returncode == 0, r.stderr
    found = not_used(r.stdout)
    for name in ["ssl", "ssl_cert", "ssl_key", "ssl_dh", "ssl_client_ca_dir"]:
        assert name not in found, name
    r = loftd(wrapper(inst, os.path.join(debian, "dovecot.conf")), "-n")
    assert r.returncode == 0, r.stderr
    assert "ssl = yes\n" in r.stdout


def test_lda_refused_plugin_tempfails(inst):
    inst.write_conf(extra="mail_plugins = $mail_plugins mail_crypt\n")
    r = inst.lda("-e", "-d", "user0@example.com", "-f", "a@example.org")
    assert r.returncode == EX_TEMPFAIL, r.stderr
    assert f"{inst.conf}:".encode() in r.stderr
    assert b"mail_plugins: mail_crypt: loft does not implement this plugin" in r.stderr
    assert inst.new_files("user0@example.com") == []


def test_lda_refused_plugin_from_command_line(inst):
    r = inst.lda("-d", "user0@example.com", "-f", "a@example.org",
                 "-o", "mail_plugins=acl")
    assert r.returncode == EX_TEMPFAIL, r.stderr
    assert inst.new_files("user0@example.com") == []


def test_lda_delivers_with_foreign_settings(inst):
    """Foreign settings change nothing: a <file that only root may read
    (a password, a key) is not read by the mail user's loft-lda, a plugin
    of protocol lmtp { } does not concern the LDA, a plugin that does not
    change delivery is accepted, a Dovecot -o setting is accepted."""
    inst.write_conf(extra=textwrap.dedent(f"""\
        auth_mechanisms = plain login
        imapc_password = <{inst.root}/no-such-dir/password
        passdb {{
          driver = pam
        }}
        namespace inbox {{
          inbox = yes
        }}
        mail_plugins = $mail_plugins fts
        protocol lmtp {{
          mail_plugins = $mail_plugins mail_crypt
        }}
        protocol imap {{
          mail_plugins = $mail_plugins imap_quota
        }}
        """))
    r = inst.lda("-d", "user0@example.com", "-f", "a@example.org",
                 "-o", "imap_idle_notify_interval=5 mins")
    assert r.returncode == 0, r.stderr
    assert len(inst.new_files("user0@example.com")) == 1
    # the same file is refused by loftd: protocol lmtp names mail_crypt
    r = loftd(inst.conf, "--check")
    assert r.returncode == 1
    assert re.match(re.escape(inst.conf) + r":\d+: mail_plugins: mail_crypt:", r.stderr)


def test_loftd_logs_not_used_once(inst):
    imap_port = free_port()
    d = Daemon(inst, extra=textwrap.dedent(f"""\
        auth_mechanisms = plain
        passdb {{
          driver = pam
        }}
        service imap-login {{
          inet_listener imap {{
            address = 127.0.0.1
            port = {imap_port}
          }}
        }}
        """))
    d.start()
    try:
        def lines():
            return [l for l in inst.log().splitlines()
                    if "Dovecot settings not used by loft:" in l]
        assert wait_for(lambda: len(lines()) == 1)
        line = lines()[0]
        for name in ["auth_mechanisms", "passdb", "service imap-login"]:
            assert f"{name} ({inst.conf}:" in line, line
        # a foreign service's listener is not opened
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", imap_port)) != 0
        # a reload with the same config does not repeat the list
        d.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "config reloaded" in inst.log())
        assert len(lines()) == 1
    finally:
        d.stop()
