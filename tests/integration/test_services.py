"""loftd's service settings with the real loft-lmtp, checked from /proc and
the logs: user/group, chroot, vsz_limit (RLIMIT_AS), drop_priv_before_exec,
process_min_avail at idle, service_count, process_limit with client_limit
under held sessions (and its warning), idle_kill, the PROXY protocol on a
haproxy listener, SIGKILLed children under smtp-source load losing no
acknowledged message, children leaving when loftd dies, and the start-up
checks of users (default_internal_user, root refused for stats)."""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time

import pytest

from conftest import NOBODY, Daemon, binary, free_port, needs_root, wait_for

pytestmark = needs_root
SMTP_SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"


def asan_build():
    out = subprocess.run([binary("loftd"), "--version"], capture_output=True, text=True)
    return "asan" in out.stdout.split()


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def max_address_space(pid):
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max address space"):
                return line.split()[3]
    raise AssertionError("no Max address space line")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def greet(addr, prefix=b""):
    """Connect, send prefix, return the socket after the 220 greeting."""
    family = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(addr)
    if prefix:
        s.sendall(prefix)
    data = s.recv(200)
    assert data.startswith(b"220 "), data
    return s


def quit_session(s):
    s.sendall(b"QUIT\r\n")
    s.settimeout(10)
    while s.recv(200):
        pass
    s.close()


def start(daemons, inst, service_extra, extra=""):
    """A started Daemon, stopped at teardown even when start-up fails."""
    d = Daemon(inst, extra=extra, service_extra=service_extra)
    daemons.append(d)
    d.start()
    return d


@pytest.fixture
def daemons():
    started = []
    yield started
    for d in started:
        d.stop()


def test_user_group_vsz_limit_and_delivery(inst, daemons):
    d = start(daemons, inst, "user = nobody\n  vsz_limit = 300M\n  process_min_avail = 1")
    child = d.children()[0]
    st = proc_status(child)
    assert st["Uid"].split() == [str(NOBODY.pw_uid)] * 4
    assert st["Gid"].split() == [str(NOBODY.pw_gid)] * 4
    assert st["Groups"].strip() == ""
    if not asan_build():
        assert max_address_space(child) == str(300 * 1024 * 1024)
    # a delivery as the service user still works (mail users are nobody)
    r = subprocess.run([SMTP_SOURCE, "-L", "-m", "3", "-f", "a@example.org",
                        "-t", "user0@example.com", f"127.0.0.1:{d.port}"],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: len(inst.new_files("user0@example.com")) == 3)


def test_chroot_and_drop_priv_before_exec(inst, daemons, monkeypatch):
    jail = os.path.join(inst.root, "jail")
    os.makedirs(jail)
    if asan_build():
        # LeakSanitizer reads /proc at exit, which the chroot hides
        monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=0")
    d = start(daemons, inst, f"chroot = {jail}\n  user = nobody")
    child = d.children()[0]
    assert os.readlink(f"/proc/{child}/root") == jail
    assert proc_status(child)["Uid"].split()[0] == str(NOBODY.pw_uid)
    d.stop()
    monkeypatch.undo()
    # dropped by loftd before exec: the process is nobody from its first
    # instruction; it still serves
    d2 = start(daemons, inst, "user = nobody\n  drop_priv_before_exec = yes")
    child = d2.children()[0]
    assert proc_status(child)["Uid"].split() == [str(NOBODY.pw_uid)] * 4
    quit_session(greet(("127.0.0.1", d2.port)))


def test_process_min_avail_at_idle(inst, daemons):
    d = start(daemons, inst, "process_min_avail = 3")
    assert wait_for(lambda: len(d.children()) == 3)
    time.sleep(1.0)
    assert len(d.children()) == 3


def test_service_count_new_pid_per_connection(inst, daemons):
    d = start(daemons, inst, "service_count = 1")
    for _ in range(3):
        quit_session(greet(("127.0.0.1", d.port)))
    # lines reach the file through loft-log
    assert wait_for(lambda: len(re.findall(r"Info: Disconnect from", inst.log())) == 4)
    log = inst.log()
    pids = re.findall(r"lmtp<(\d+)><[^>]+>: Info: Connect from", log)
    # Daemon.start's probe was the first connection
    assert len(pids) == 4 and len(set(pids)) == 4, log
    for pid in pids:
        assert wait_for(lambda: not alive(int(pid)), timeout=5)
    assert wait_for(lambda: len(d.children()) == 1)
    errors = inst.log("loft.log")
    assert "throttling" not in errors and "child" not in errors, errors


def test_process_limit_queues_and_warns_once(inst, daemons):
    d = start(daemons, inst, "process_limit = 2\n  client_limit = 1")
    held = []
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", d.port), timeout=10)
        held.append(s)
    greeted = []
    for s in held[:2]:
        greeted.append(s.recv(200))
    assert all(g.startswith(b"220 ") for g in greeted)
    pattern = r"Warning: service\(lmtp\): process_limit \(2\) reached, client connections are being queued"
    assert wait_for(lambda: re.search(pattern, inst.log("loft.log")))
    time.sleep(0.5)
    assert len(d.children()) == 2
    # the queued clients have not been greeted
    for s in held[2:]:
        s.setblocking(False)
        with pytest.raises(BlockingIOError):
            s.recv(200)
        s.setblocking(True)
        s.settimeout(10)
    # releasing the first sessions lets the queue through, in turn
    for i, s in enumerate(held):
        if i >= 2:
            assert s.recv(200).startswith(b"220 ")
        quit_session(s)
    assert len(re.findall(pattern, inst.log("loft.log"))) == 1
    assert len(d.children()) <= 2


def test_idle_kill_back_to_min_avail(inst, daemons):
    d = start(daemons, inst, "client_limit = 1\n  process_limit = 4\n"
                             "  process_min_avail = 1\n  idle_kill = 1 s")
    held = [greet(("127.0.0.1", d.port)) for _ in range(3)]
    assert wait_for(lambda: len(d.children()) == 4)
    for s in held:
        quit_session(s)
    assert wait_for(lambda: len(d.children()) == 1, timeout=8)
    time.sleep(0.5)
    assert len(d.children()) == 1
    quit_session(greet(("127.0.0.1", d.port)))


def proxy_v2_tcp4(src, dst, sport, dport):
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", 12) +
            socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport))


def proxy_v2_tcp6(src, dst, sport, dport):
    return (b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x21]) + struct.pack("!H", 36) +
            socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) +
            struct.pack("!HH", sport, dport))


def test_proxy_protocol_sets_client_address(inst, daemons):
    pport = free_port()
    d = start(daemons, inst, f"""inet_listener proxied {{
    address = 127.0.0.1
    port = {pport}
    haproxy = yes
  }}""", extra="haproxy_trusted_networks = 10.0.0.0/8, 127.0.0.1/32\n")
    addr = ("127.0.0.1", pport)
    quit_session(greet(addr, b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 24\r\n"))
    quit_session(greet(addr, proxy_v2_tcp4("203.0.113.8", "192.0.2.1", 40001, 24)))
    quit_session(greet(addr, proxy_v2_tcp6("2001:db8::9", "2001:db8::1", 40002, 24)))
    # LOCAL: the connection's own address; the header is sent in two parts
    s = socket.create_connection(addr, timeout=10)
    local = b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00"
    s.sendall(local[:7])
    time.sleep(0.2)
    s.sendall(local[7:])
    assert s.recv(200).startswith(b"220 ")
    quit_session(s)
    assert wait_for(lambda: len(re.findall(r"Info: Connect from ", inst.log())) == 5)
    log = inst.log()
    for ip in ("203.0.113.7", "203.0.113.8", "2001:db8::9"):
        assert re.search(rf"Info: Connect from {re.escape(ip)}$", log, re.M), log
    assert len(re.findall(r"Info: Connect from 127\.0\.0\.1$", log, re.M)) == 2
    # garbage: closed at once, with a warning
    s = socket.create_connection(addr, timeout=10)
    s.sendall(b"EHLO there\r\n")
    try:
        assert s.recv(200) == b""
    except ConnectionResetError:
        pass    # closed with our bytes unread
    s.close()
    assert wait_for(lambda: re.search(r"Warning: haproxy: dropping connection from 127\.0\.0\.1: "
                                      r"not a PROXY header", inst.log("loft.log")))
    # the plain listener of the same service is not affected
    quit_session(greet(("127.0.0.1", d.port)))


def test_sigkill_under_load_loses_no_acknowledged_message(inst, daemons):
    d = start(daemons, inst, "process_min_avail = 2")
    out = os.path.join(inst.root, "source.out")
    with open(out, "w") as f:
        src = subprocess.Popen([SMTP_SOURCE, "-v", "-L", "-s", "5", "-m", "3000", "-l", "2000",
                                "-f", "a@example.org", "-t", "user0@example.com",
                                f"127.0.0.1:{d.port}"], stdout=f, stderr=subprocess.STDOUT)
        killed = set()
        for _ in range(3):
            time.sleep(0.4)
            for pid in d.children():
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        src.wait(timeout=60)
    # the service comes back (throttled after repeated fast deaths)
    assert wait_for(lambda: set(d.children()) - killed and d.connectable(), timeout=15)
    r = subprocess.run([SMTP_SOURCE, "-v", "-L", "-s", "2", "-m", "20", "-f", "a@example.org",
                        "-t", "user0@example.com", f"127.0.0.1:{d.port}"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout
    with open(out) as f:
        acked = len(re.findall(r"<<< 250 2\.0\.0 <user0@example\.com> \S+ Saved$",
                               f.read() + r.stdout, re.M))
    assert acked >= 20
    files = inst.new_files("user0@example.com")
    assert len(files) >= acked
    assert wait_for(lambda: re.search(r"Error: service\(lmtp\): child \d+ killed with signal 9$",
                                      inst.log("loft.log"), re.M))


def test_children_leave_when_master_dies(inst, daemons):
    d = start(daemons, inst, "process_min_avail = 2")
    children = d.children()
    held = greet(("127.0.0.1", d.port))
    d.proc.kill()
    d.proc.wait()
    # the held session is told, every child exits
    assert held.recv(200).startswith(b"421 ")
    held.close()
    for pid in children:
        assert wait_for(lambda: not alive(pid), timeout=10)
    # loft-log writes until the last child has closed the log channel
    assert wait_for(lambda: re.search(r"Warning: master process is gone", inst.log("loft.log")))


def check(inst):
    return subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                          capture_output=True, text=True, timeout=30)


def test_check_internal_user_rules(inst):
    stats = "service stats {\n  executable = /bin/true\n  type = startup\n%s}\n"
    inst.write_conf(extra="default_internal_user = no-such-user-loft\n" + stats % "")
    r = check(inst)
    assert r.returncode == 1
    assert ("service(stats): default_internal_user=no-such-user-loft: "
            "user no-such-user-loft does not exist") in r.stderr, r.stderr
    inst.write_conf(extra="default_internal_user = nobody\n" + stats % "  user = root\n")
    r = check(inst)
    assert r.returncode == 1 and "service(stats): user=root is not allowed" in r.stderr
    inst.write_conf(extra="default_internal_user = nobody\n" + stats % "")
    r = check(inst)
    assert r.returncode == 0, r.stderr
    out = subprocess.run([binary("loftd"), "-c", inst.conf, "-a"], capture_output=True,
                         text=True, timeout=30).stdout
    assert re.search(r"service stats \{\n(  .*\n)*  user = nobody\n", out), out
    inst.write_conf(extra="service lmtp {\n  user = no-such-user-loft\n}\n")
    r = check(inst)
    assert r.returncode == 1 and "service(lmtp): user=no-such-user-loft" in r.stderr


def private_loftd(inst):
    """loftd and its services copied into bin/ of a 0700 folder: the
    folder, loftd's path, and the error a service that execs as nobody
    from there must get"""
    import pathlib
    private = pathlib.Path(inst.root) / "private"
    (private / "bin").mkdir(parents=True)
    os.chmod(private, 0o700)
    for name in ("loftd", "loft-lmtp", "loft-log", "loft-stats"):
        shutil.copy2(binary(name), private / "bin" / name)
    want = (f"service(lmtp): user=nobody can't execute {private}/bin/loft-lmtp "
            f"with drop_priv_before_exec = yes: {private} is mode 0700")
    return private, str(private / "bin" / "loftd"), want


def test_unreachable_executable_is_one_clear_error(inst):
    """loftd installed under a 0700 folder, with a service that execs as
    nobody: --check and start-up name the user, the path and the folder
    that blocks it, once, instead of a throttled loop of execv failures."""
    private, loftd, want = private_loftd(inst)
    Daemon(inst, service_extra="user = nobody\n  drop_priv_before_exec = yes")
    check = subprocess.run([loftd, "-c", inst.conf, "--check"],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 1
    assert want in check.stderr
    assert check.stderr.startswith(f"{inst.conf}:")
    run = subprocess.run([loftd, "-c", inst.conf, "-F"],
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 1
    assert run.stderr.count(want) == 1, run.stderr
    assert "execv" not in run.stderr + inst.log("loft.log")
    # the same folder serves when loftd execs the service as root
    Daemon(inst, service_extra="user = nobody")
    check = subprocess.run([loftd, "-c", inst.conf, "--check"],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr


def test_reload_into_unreachable_executable_is_one_clear_error(inst):
    """The same loftd serving from its 0700 folder (the service drops its
    privileges after exec); a reload that adds drop_priv_before_exec is
    refused with the one error naming user, path and folder, and the
    running services go on with the previous config: no execv loop."""
    _, loftd, want = private_loftd(inst)
    d = Daemon(inst, service_extra="user = nobody")
    d.proc = subprocess.Popen([loftd, "-c", inst.conf, "-F"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert wait_for(d.connectable), inst.log("loft.log")
        with open(inst.conf) as f:
            text = f.read()
        with open(inst.conf, "w") as f:
            # the service lmtp block's user line is the last one
            head, tail = text.rsplit("  user = nobody\n", 1)
            f.write(head + "  user = nobody\n  drop_priv_before_exec = yes\n" + tail)
        os.kill(d.proc.pid, signal.SIGHUP)
        assert wait_for(lambda: want in inst.log("loft.log")), inst.log("loft.log")
        time.sleep(1)   # a restart loop would log again within this
        log = inst.log("loft.log")
        assert log.count(want) == 1, log
        assert "reload failed: " in log and "execv" not in log, log
        assert d.proc.poll() is None
        assert d.connectable()
    finally:
        d.stop()


def test_proxy_header_only_from_trusted_networks(inst, daemons):
    """haproxy_trusted_networks (Dovecot's setting, empty by default):
    a client outside it cannot say which address it comes from."""
    pport = free_port()
    start(daemons, inst, f"""inet_listener proxied {{
    address = 127.0.0.1
    port = {pport}
    haproxy = yes
  }}""", extra="haproxy_trusted_networks = 192.0.2.0/24\n")
    s = socket.create_connection(("127.0.0.1", pport), timeout=10)
    s.sendall(b"PROXY TCP4 203.0.113.7 192.0.2.1 40000 24\r\n")
    try:
        assert s.recv(200) == b""
    except ConnectionResetError:
        pass
    s.close()
    assert wait_for(lambda: "haproxy: dropping connection from 127.0.0.1: not in "
                    "haproxy_trusted_networks" in inst.log("loft.log"))
    assert "203.0.113.7" not in inst.log()
    bad = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                         capture_output=True, text=True)
    assert bad.returncode == 0, bad.stderr
    with open(inst.conf, "a") as f:
        f.write("haproxy_trusted_networks = 10.0.0.0/99\n")
    bad = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "haproxy_trusted_networks: Invalid CIDR" in bad.stderr
