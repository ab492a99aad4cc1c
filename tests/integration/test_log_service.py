"""The log service (loft-log): every line of loftd, loft-lmtp and
loft-stats reaches root-only log files through it, also from processes
that run as nobody and could not open those files; SIGUSR1 and `loftd
reload` make new files after a rename; a child's stray stderr output is
logged with its service and pid (long lines cut at 8 KiB); a SIGKILLed
loft-log is replaced and the lines sent meanwhile are not lost."""
import json
import os
import re
import signal
import smtplib
import socket
import stat
import subprocess

import pytest

from conftest import NOBODY, SAMPLE, Daemon, binary, needs_root, wait_for

pytestmark = needs_root


@pytest.fixture
def daemons():
    started = []
    yield started
    for d in started:
        d.stop()


@pytest.fixture
def root_logs(inst):
    """The log folder is root's alone (0700): only a root process can
    create or open the files in it."""
    os.chmod(inst.logdir, 0o700)
    return inst


def start(daemons, inst, service_extra="", extra=""):
    d = Daemon(inst, extra=extra, service_extra=service_extra)
    daemons.append(d)
    d.start()
    return d


def deliver(d, count=1, rcpt="user0@example.com", tag="m"):
    """count messages over LMTP; returns their Message-IDs"""
    ids = []
    with smtplib.LMTP("127.0.0.1", d.port, timeout=30) as lmtp:
        for i in range(count):
            msgid = f"<{tag}{i}.{os.getpid()}@example.org>"
            msg = SAMPLE.replace(b"<m1@example.org>", msgid.encode())
            assert lmtp.sendmail("a@example.org", [rcpt], msg) == {}
            ids.append(msgid)
    return ids


def saved_line(msgid):
    return rf"lmtp\(user0@example\.com\)<\d+><[^>]+>: Info: msgid={re.escape(msgid)}: saved mail to INBOX$"


def wait_log(inst, pattern, name="loft-info.log", timeout=10.0):
    assert wait_for(lambda: re.search(pattern, inst.log(name), re.M), timeout=timeout), \
        (pattern, inst.log(name))


def log_pids(d):
    return d.children("loft-log")


def fd_targets(pid):
    fd_dir = f"/proc/{pid}/fd"
    targets = []
    for fd in os.listdir(fd_dir):
        try:
            targets.append(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            pass
    return targets


def test_unprivileged_services_log_into_root_only_files(root_logs, daemons):
    inst = root_logs
    d = start(daemons, inst, "user = nobody\n  drop_priv_before_exec = yes")
    [lmtp] = d.children("loft-lmtp")
    [stats] = d.children("loft-stats")
    [logger] = log_pids(d)
    for pid in (lmtp, stats):
        with open(f"/proc/{pid}/status") as f:
            assert re.search(rf"^Uid:\s+{NOBODY.pw_uid}\s", f.read(), re.M)
    with open(f"/proc/{logger}/status") as f:
        assert re.search(r"^Uid:\s+0\s", f.read(), re.M)
    # nobody from its first instruction: it never had the files open
    assert not any(t.startswith(inst.logdir) for t in fd_targets(lmtp))
    ids = deliver(d, 3)
    assert len(inst.new_files("user0@example.com")) == 3
    for msgid in ids:
        wait_log(inst, saved_line(msgid))
    # loft-stats (nobody) logs too: garbage on its writer socket
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.path.join(inst.root, "run", "stats-writer"))
        s.sendall(b"\xff" * 64)
        s.settimeout(5)
        try:
            while s.recv(100):
                pass
        except OSError:
            pass
    wait_log(inst, rf"^\S+ \S+ stats<{stats}>: Warning: stats: dropped unidentified peer",
             name="loft.log")
    # loftd's own lines go the same way
    wait_log(inst, rf"master<{d.proc.pid}>: Info: service\(lmtp\): process {lmtp} started$")
    for name in ("loft.log", "loft-info.log"):
        st = os.stat(os.path.join(inst.logdir, name))
        assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600
    assert "stderr:" not in inst.log("loft.log")
    d.stop()
    # the shutdown is logged to the end: lmtp's last line, then loftd's
    wait_log(inst, rf"lmtp<{lmtp}>: Info: received SIGTERM")
    wait_log(inst, r"master<\d+>: Info: loftd stopped$")


def test_json_lines_pass_unchanged(root_logs, daemons):
    inst = root_logs
    d = start(daemons, inst, "user = nobody", extra="log_format = json\n")
    [msgid] = deliver(d, 1, tag="json")
    wait_log(inst, re.escape(json.dumps(msgid)[1:-1]))
    records = [json.loads(line) for line in inst.log().splitlines()]
    saved = [r for r in records if r.get("msgid") == msgid]
    assert len(saved) == 1 and saved[0]["service"] == "lmtp"
    assert saved[0]["result"] == "saved" and saved[0]["user"] == "user0@example.com"


def test_reopen_on_sigusr1_and_reload(root_logs, daemons):
    inst = root_logs
    d = start(daemons, inst, "user = nobody")
    info = os.path.join(inst.logdir, "loft-info.log")
    [first] = deliver(d, 1, tag="before")
    wait_log(inst, saved_line(first))
    # logrotate: rename, then SIGUSR1 to loftd
    os.rename(info, info + ".1")
    d.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: os.path.exists(info))
    [second] = deliver(d, 1, tag="usr1")
    wait_log(inst, saved_line(second))
    assert re.search(saved_line(first), inst.log("loft-info.log.1"), re.M)
    assert second not in inst.log("loft-info.log.1")
    assert first not in inst.log("loft-info.log")
    st = os.stat(info)
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o600
    # a reload restarts loft-log on the new snapshot: the next file again
    os.rename(info, info + ".2")
    old_logger = log_pids(d)
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: log_pids(d) and set(log_pids(d)) != set(old_logger))
    wait_for(lambda: d.connectable())
    [third] = deliver(d, 1, tag="reload")
    wait_log(inst, saved_line(third))
    assert third not in inst.log("loft-info.log.2")
    # lines around the reload go to either file (the old loft-log writes
    # what it reads until it exits), none is lost
    both = inst.log("loft-info.log.2") + inst.log()
    assert re.search(r"master<\d+>: Info: config reloaded$", both, re.M)


def test_child_stderr_is_captured(root_logs, daemons):
    inst = root_logs
    wrapper = os.path.join(inst.root, "lmtp-wrapper.sh")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n"
                "echo 'wrapper says hello' >&2\n"
                f"head -c 10000 /dev/zero | tr '\\0' x >&2\n"
                "printf '\\nafter the long line\\n' >&2\n"
                f"exec {binary('loft-lmtp')} \"$@\"\n")
    os.chmod(wrapper, 0o755)
    d = start(daemons, inst, f"executable = {wrapper}\n  user = nobody")
    [lmtp] = d.children("loft-lmtp")
    log = lambda: inst.log("loft.log")
    wait_log(inst, rf"^\S+ \S+ lmtp<{lmtp}>: Error: stderr: wrapper says hello$", name="loft.log")
    wait_log(inst, rf"lmtp<{lmtp}>: Error: stderr: after the long line$", name="loft.log")
    cut = re.search(rf"lmtp<{lmtp}>: Error: stderr: (x+)$", log(), re.M)
    assert cut and len(cut.group(1)) == 8192, len(cut.group(1)) if cut else log()
    # the same process then serves
    [msgid] = deliver(d, 1, tag="wrapped")
    wait_log(inst, saved_line(msgid))


def test_loft_log_killed_lines_are_not_lost(root_logs, daemons):
    inst = root_logs
    d = start(daemons, inst, "user = nobody")
    [logger] = log_pids(d)
    os.kill(logger, signal.SIGKILL)
    # deliveries go on while it is down and being replaced
    ids = deliver(d, 5, tag="killed")
    assert len(inst.new_files("user0@example.com")) == 5
    assert wait_for(lambda: log_pids(d) and log_pids(d) != [logger])
    for msgid in ids:
        wait_log(inst, saved_line(msgid))
    wait_log(inst, rf"master<\d+>: Error: service\(log\): child {logger} killed with signal 9$",
             name="loft.log")
    ids = deliver(d, 2, tag="after")
    for msgid in ids:
        wait_log(inst, saved_line(msgid))
