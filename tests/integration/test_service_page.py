"""Dovecot's "Service configuration" page, setting by setting, checked on
the running processes (/proc/PID/limits, /proc/PID/root, /proc/PID/status,
stat() of the sockets) and on `loftd --check`/`-a`: vsz_limit 0 and its
2^64-1 default, listener modes (0 turns a listener off, a mode without a
leading 0 is decimal and warned about), executable and chroot relative to
base_dir, chroot refused with drop_priv_before_exec, the documented
types, privileged_group, default_internal_group, default_login_user; and
Dovecot's defaults admins rely on: a `service lmtp { user = ... }` block
keeps the built-in unix_listener lmtp (0666), inet listeners follow
`listen` (`*, ::`), stats stays on loopback, every address is logged."""
import grp
import os
import re
import smtplib
import socket
import stat
import subprocess

import pytest

from conftest import NOBODY, Daemon, binary, free_port, needs_root, wait_for

pytestmark = needs_root


def asan_build():
    out = subprocess.run([binary("loftd"), "--version"], capture_output=True, text=True)
    return "asan" in out.stdout.split()


def limit(pid, name="Max address space"):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith(name):
                return line[len(name):].split()[0]
    raise AssertionError(f"no {name} line")


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def loftd(inst, *args):
    return subprocess.run([binary("loftd"), "-c", inst.conf, *args],
                          capture_output=True, text=True, timeout=60)


class Loftd(Daemon):
    """conftest's Daemon (its stop() checks for sanitizer reports), on
    whatever inst.conf already says; ready when a predicate holds."""

    def __init__(self, inst):
        self.inst = inst
        self.proc = None

    def start(self, ready):
        self.proc = subprocess.Popen([binary("loftd"), "-c", self.inst.conf, "-F"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        ok = wait_for(lambda: ready() or self.proc.poll() is not None, timeout=20)
        assert ok and self.proc.poll() is None, (
            (self.proc.stdout.read().decode() if self.proc.poll() is not None else "")
            + self.inst.log("loft.log"))
        return self


@pytest.fixture
def running():
    started = []

    def start(inst, ready):
        d = Loftd(inst)
        started.append(d)
        return d.start(ready)
    yield start
    for d in started:
        d.stop()


def lmtp_over(path_or_addr):
    if isinstance(path_or_addr, str):
        c = smtplib.LMTP(path_or_addr, timeout=20)
    else:
        c = smtplib.LMTP(*path_or_addr, timeout=20)
    return c


def deliver(client, rcpt="user0@example.com"):
    client.sendmail("a@example.org", [rcpt],
                    b"Subject: svc\r\nMessage-ID: <svc@example.org>\r\n\r\nbody\r\n")
    client.quit()


# ---- vsz_limit ----

def test_vsz_limit_zero_is_unlimited_default_is_default_vsz_limit(inst, running):
    if asan_build():
        pytest.skip("vsz_limit is not applied in an AddressSanitizer build")
    port = free_port()
    inst.write_conf(extra=f"""
        default_vsz_limit = 300M
        service lmtp {{
          vsz_limit = 0
          user = nobody
          process_min_avail = 1
          inet_listener lmtp {{
            address = 127.0.0.1
            port = {port}
          }}
        }}
        service stats {{
          inet_listener http {{
            port = {free_port()}
          }}
        }}
        """)
    d = running(inst, lambda: os.path.exists(os.path.join(inst.root, "run", "lmtp")))
    assert wait_for(lambda: d.children() and d.children("loft-stats"))
    # 0: no limit at all (loftd itself runs without one)
    assert limit(os.getpid()) == "unlimited"
    # each process sets its limits itself, right after start-up and
    # before it becomes its user
    lmtp = d.children()[0]
    assert wait_for(lambda: proc_status(lmtp)["Uid"].split()[0] == str(NOBODY.pw_uid))
    assert limit(d.children()[0]) == "unlimited"
    assert limit(d.children()[0], "Max data size") == "unlimited"
    # no vsz_limit: the 2^64-1 default, which means default_vsz_limit
    stats = d.children("loft-stats")[0]
    assert wait_for(lambda: limit(stats) == str(300 << 20)), limit(stats)
    out = loftd(inst, "-a").stdout
    assert re.search(r"service stats \{\n(  .*\n)*  vsz_limit = 18446744073709551615\n", out), out
    assert re.search(r"service lmtp \{\n(  .*\n)*  vsz_limit = 0\n", out), out
    d.stop()
    # and a value of its own wins over default_vsz_limit
    inst.write_conf(extra=f"""
        service lmtp {{
          vsz_limit = 200M
          process_min_avail = 1
        }}
        """)
    d = running(inst, lambda: os.path.exists(os.path.join(inst.root, "run", "lmtp")))
    assert wait_for(lambda: d.children())
    lmtp = d.children()[0]
    assert wait_for(lambda: limit(lmtp) == str(200 << 20)), limit(lmtp)


# ---- listener modes ----

def test_mode_zero_disables_and_decimal_mode_is_dovecots(inst, running):
    port = free_port()
    run = os.path.join(inst.root, "run")
    inst.write_conf(extra=f"""
        service lmtp {{
          inet_listener lmtp {{
            address = 127.0.0.1
            port = {port}
          }}
          unix_listener lmtp {{
            mode = 0
          }}
          unix_listener decimal {{
            mode = 432
          }}
          unix_listener octal {{
            mode = 0640
          }}
        }}
        """)
    r = loftd(inst, "--check")
    assert r.returncode == 0, r.stderr
    # 432 is 0660, read as Dovecot reads it, with a warning naming the line
    assert re.search(rf"^.*{re.escape(inst.conf)}:\d+: service\(lmtp\): decimal: mode has "
                     r"no leading 0, so it is the decimal number 432 \(octal 0660\)",
                     r.stderr, re.M), r.stderr
    d = running(inst, lambda: os.path.exists(os.path.join(run, "octal")))
    assert not os.path.exists(os.path.join(run, "lmtp"))
    assert stat.S_IMODE(os.stat(os.path.join(run, "decimal")).st_mode) == 0o660
    assert stat.S_IMODE(os.stat(os.path.join(run, "octal")).st_mode) == 0o640
    deliver(lmtp_over(os.path.join(run, "decimal")))
    deliver(lmtp_over(("127.0.0.1", port)))
    assert wait_for(lambda: len(inst.new_files("user0@example.com")) == 2)
    assert "mode has no leading 0" in inst.log("loft.log")
    d.stop()


# ---- executable and chroot ----

def test_relative_executable_and_chroot_are_in_base_dir(inst, running, monkeypatch):
    run = os.path.join(inst.root, "run")
    if asan_build():
        # LeakSanitizer reads /proc at exit, which the chroot hides
        monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=0")
    # a relative executable that is not a loft program: base_dir/...
    inst.write_conf(extra="service lmtp {\n  executable = bin/my-lmtp\n}\n")
    r = loftd(inst, "--check")
    assert r.returncode == 1
    assert f"service(lmtp): executable {run}/bin/my-lmtp: No such file or directory" in r.stderr
    os.makedirs(os.path.join(run, "bin"))
    os.symlink(binary("loft-lmtp"), os.path.join(run, "bin", "my-lmtp"))
    r = loftd(inst, "--check")
    assert r.returncode == 0, r.stderr
    # Dovecot's own program name for the service starts loft's program
    inst.write_conf(extra="service lmtp {\n  executable = lmtp\n}\n")
    assert loftd(inst, "--check").returncode == 0
    # chroot = jail is base_dir/jail
    os.makedirs(os.path.join(run, "jail"))
    inst.write_conf(extra="service lmtp {\n  chroot = jail\n  user = nobody\n"
                          "  process_min_avail = 1\n}\n")
    d = running(inst, lambda: os.path.exists(os.path.join(run, "lmtp")))
    assert wait_for(lambda: d.children())
    child = d.children()[0]
    assert wait_for(lambda: os.readlink(f"/proc/{child}/root") == os.path.join(run, "jail"))
    assert wait_for(lambda: proc_status(child)["Uid"].split()[0] == str(NOBODY.pw_uid))


def test_chroot_with_drop_priv_before_exec_is_refused(inst):
    inst.write_conf(extra="service lmtp {\n  chroot = /\n  drop_priv_before_exec = yes\n}\n")
    r = loftd(inst, "--check")
    assert r.returncode == 1
    assert re.match(rf"{re.escape(inst.conf)}:\d+: service\(lmtp\): drop_priv_before_exec "
                    r"= yes can't be used with chroot \(/\)$", r.stderr.strip()), r.stderr


def test_check_finds_a_missing_executable(inst):
    inst.write_conf(extra="service lmtp {\n  executable = /nonexistent/loft-lmtp\n}\n")
    r = loftd(inst, "--check")
    assert r.returncode == 1
    assert "service(lmtp): executable /nonexistent/loft-lmtp: No such file or directory" in r.stderr


# ---- type ----

@pytest.mark.parametrize("service,type_,error", [
    ("lmtp", "startup", None),
    ("lmtp", "", None),
    ("log", "log", None),
    ("lmtp", "log", "service(lmtp): type=log: only the log service is one"),
    ("lmtp", "login", "service(lmtp): type=login is for Dovecot's own login processes"),
    ("lmtp", "config", "service(lmtp): type=config is for Dovecot's own config processes"),
    ("lmtp", "anvil", "service(lmtp): type=anvil is for Dovecot's own anvil processes"),
    ("lmtp", "worker", "service(lmtp): type=worker is for Dovecot's own worker processes"),
    ("lmtp", "bogus", "service(lmtp): type=bogus: unknown"),
])
def test_documented_types(inst, service, type_, error):
    inst.write_conf(extra=f"service {service} {{\n  type = \"{type_}\"\n}}\n")
    r = loftd(inst, "--check")
    if error is None:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode == 1 and error in r.stderr, r.stderr
        assert r.stderr.startswith(f"{inst.conf}:")


# ---- privileged_group, default_internal_group, default_login_user ----

def test_privileged_group_is_lmtps_mail_privileged_group(inst):
    inst.write_conf(extra="service lmtp {\n  privileged_group = mail\n}\n")
    r = loftd(inst, "--check")
    assert r.returncode == 0, r.stderr
    out = loftd(inst, "-a").stdout
    assert re.search(r"protocol lmtp \{\n(  .*\n)*  mail_privileged_group = mail\n", out), out
    assert re.search(r'^mail_privileged_group = ""$', out, re.M), out
    inst.write_conf(extra="mail_privileged_group = mail\n"
                          "service lmtp {\n  privileged_group = root\n}\n")
    r = loftd(inst, "--check")
    assert r.returncode == 1
    assert "service(lmtp): privileged_group=root differs from mail_privileged_group=mail" in r.stderr
    inst.write_conf(extra="service stats {\n  privileged_group = mail\n}\n")
    r = loftd(inst, "--check")
    assert r.returncode == 1 and "service(stats): privileged_group: only loft-lmtp" in r.stderr


def test_default_internal_group_and_login_user(inst, running):
    group = grp.getgrnam("mail")
    inst.write_conf(extra=f"""
        default_internal_group = mail
        default_login_user = dovenull
        haproxy_trusted_networks = 10.0.0.0/8
        """)
    r = loftd(inst, "--check")
    assert r.returncode == 0, r.stderr
    d = running(inst, lambda: os.path.exists(os.path.join(inst.root, "run", "stats-writer")))
    assert wait_for(lambda: d.children("loft-stats"))
    stats = d.children("loft-stats")[0]
    # the process drops its privileges itself, right after start-up
    assert wait_for(lambda: proc_status(stats)["Uid"].split() == [str(NOBODY.pw_uid)] * 4)
    assert proc_status(stats)["Gid"].split() == [str(group.gr_gid)] * 4


# ---- Dovecot's defaults admins rely on ----

def test_service_lmtp_without_listener_keeps_builtin_socket(inst, running):
    """The seeds' `service lmtp { user = vmail }`: Dovecot keeps its
    built-in unix_listener lmtp, mode 0666; so does loftd."""
    sock = os.path.join(inst.root, "run", "lmtp")
    inst.write_conf(extra="service lmtp {\n  user = nobody\n}\n")
    out = loftd(inst, "-a").stdout
    assert re.search(r"service lmtp \{\n(  .*\n)*  unix_listener lmtp \{\n"
                     r"(    .*\n)*    mode = 0666\n", out), out
    assert "unix_listener" not in loftd(inst, "-n").stdout
    d = running(inst, lambda: os.path.exists(sock))
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o666
    deliver(lmtp_over(sock))
    assert wait_for(lambda: len(inst.new_files("user0@example.com")) == 1)
    assert wait_for(lambda: d.children())
    lmtp = d.children()[0]
    assert wait_for(lambda: proc_status(lmtp)["Uid"].split()[0] == str(NOBODY.pw_uid))
    assert re.search(rf"service\(lmtp\): unix_listener lmtp: listening on {re.escape(sock)}$",
                     inst.log(), re.M), inst.log()


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_inet_listener_follows_listen_stats_stays_on_loopback(inst, running):
    lmtp_port, http_port = free_port(), free_port()
    inst.write_conf(extra=f"""
        service lmtp {{
          inet_listener lmtp {{
            port = {lmtp_port}
          }}
        }}
        service stats {{
          inet_listener http {{
            port = {http_port}
          }}
        }}
        """)
    running(inst, lambda: "inet_listener http: listening on" in inst.log())
    log = inst.log()
    # listen's default is Dovecot's "*, ::"
    assert f"service(lmtp): inet_listener lmtp: listening on 0.0.0.0:{lmtp_port}" in log, log
    if ipv6_available():
        assert f"service(lmtp): inet_listener lmtp: listening on [::]:{lmtp_port}" in log, log
        deliver(lmtp_over(("::1", lmtp_port)))
    deliver(lmtp_over(("127.0.0.1", lmtp_port)))
    # stats' HTTP API stays on loopback whatever listen says
    assert f"service(stats): inet_listener http: listening on 127.0.0.1:{http_port}" in log, log
    assert "0.0.0.0:%d" % http_port not in log and "[::]:%d" % http_port not in log
    # every address loftd listens on is in the log, the built-in sockets too
    for name in ("lmtp", "stats-writer", "admin"):
        path = os.path.join(inst.root, "run", name)
        assert f"listening on {path}" in log, (name, log)
    with open("/proc/net/tcp") as f:
        listening = [l.split()[1] for l in f.readlines()[1:] if l.split()[3] == "0A"]
    assert "00000000:%04X" % lmtp_port in listening
    assert "0100007F:%04X" % http_port in listening
    assert "00000000:%04X" % http_port not in listening
