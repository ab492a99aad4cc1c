"""loftd, the master, as a process: the command line (--check, -n, -a,
stop, reload), the pid file, and supervision of a stand-in service: a small
Python script that proves the fd/env contract (fd 3 snapshot, fd 4 status
socket, fds 5.. listeners, then the log channel named by LOFT_LOG_FD,
LOFT_SERVICE, LOFT_LISTENERS, stderr a pipe to loftd), answers one line
per connection, and is replaced, throttled, reloaded and stopped."""
import glob
import json
import os
import re
import signal
import socket
import stat
import subprocess
import textwrap
import time

import pytest

from conftest import binary, free_port, stderr_reports

STANDIN = """\
#!/usr/bin/python3
import fcntl, json, os, select, signal, socket, stat, sys, time

STATE = {state!r}
if {crash!r}:
    sys.exit(3)
signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
signal.signal(signal.SIGUSR1,
              lambda *a: open(os.path.join(STATE, "usr1.%d" % os.getpid()), "w").close())
names = [n for n in os.environ.get("LOFT_LISTENERS", "").split(",") if n]
fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
info = {{
    "pid": os.getpid(),
    "service": os.environ.get("LOFT_SERVICE"),
    "listeners": names,
    "fds": fds,
    "snapshot": os.pread(3, 1 << 20, 0).decode(),
    "snapshot_is_file": stat.S_ISREG(os.fstat(3).st_mode),
    "master_is_seqpacket": (lambda s: (s.type == socket.SOCK_SEQPACKET, s.close())[0])(
        socket.socket(fileno=os.dup(4))),
    "nonblock": [bool(fcntl.fcntl(5 + i, fcntl.F_GETFL) & os.O_NONBLOCK)
                 for i in range(len(names))],
    "stdin": os.readlink("/proc/self/fd/0"),
    "stdout": os.readlink("/proc/self/fd/1"),
    "stderr": os.readlink("/proc/self/fd/2"),
    "log_fd": os.environ.get("LOFT_LOG_FD"),
    "log_server_fd": os.environ.get("LOFT_LOG_SERVER_FD"),
    "log_is_seqpacket": (lambda s: (s.type == socket.SOCK_SEQPACKET, s.close())[0])(
        socket.socket(fileno=os.dup(5 + len(names)))),
}}
tmp = os.path.join(STATE, "tmp.%d" % os.getpid())
with open(tmp, "w") as f:
    json.dump(info, f)
os.rename(tmp, os.path.join(STATE, "info.%d.json" % os.getpid()))
time.sleep({delay!r})
socks = [socket.socket(fileno=5 + i) for i, n in enumerate(names)
         if not n.startswith("fifo:")]
while True:
    ready, _, _ = select.select(socks + [4], [], [])
    for s in ready:
        if s == 4:
            if os.read(4, 1) == b"":
                sys.exit(0)
            continue
        try:
            conn, _ = s.accept()
        except BlockingIOError:
            continue
        conn.sendall(b"hello from %d\\n" % os.getpid())
        conn.close()
"""


def wait_for(predicate, timeout=10.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def loftd(*args, timeout=70):
    return subprocess.run([binary("loftd"), *args], capture_output=True,
                          text=True, timeout=timeout)


class Master:
    """One loftd -F with stand-in services in a private base_dir."""

    def __init__(self, inst):
        self.inst = inst
        self.run_dir = os.path.join(inst.root, "run")
        self.state = os.path.join(inst.root, "state")
        os.makedirs(self.state)
        self.port = free_port()
        self.proc = None
        self.stderr_path = os.path.join(inst.root, "loftd.stderr")
        self.script = self.make_script("standin.py", delay=0.0)

    def make_script(self, name, delay=0.0, crash=False):
        path = os.path.join(self.inst.root, name)
        with open(path, "w") as f:
            f.write(STANDIN.format(state=self.state, delay=delay, crash=crash))
        os.chmod(path, 0o755)
        return path

    def service(self, name="lmtp", script=None, count=1, unix_mode="0660",
                extra_listeners=""):
        # a service lmtp block keeps Dovecot's built-in unix_listener lmtp
        # unless mode = 0 turns it off: the stand-in has only its own two
        builtin_off = ("unix_listener lmtp {\n  mode = 0\n}\n"
                       if name == "lmtp" else "")
        return textwrap.dedent(f"""\
            service {name} {{
              executable = {script or self.script}
              process_min_avail = {count}
              inet_listener tcp {{
                address = 127.0.0.1
                port = {self.port}
              }}
              unix_listener sock {{
                path = standin
                mode = {unix_mode}
              }}
            """) + builtin_off + textwrap.dedent(extra_listeners) + "}\n"

    def configure(self, services, extra=""):
        self.inst.write_conf(extra=extra + "\n" + services)

    def start(self, children=1):
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen([binary("loftd"), "-c", self.inst.conf, "-F"],
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.stderr)
        wait_for(lambda: self.pidfile_pid() == self.proc.pid or self.proc.poll() is not None,
                 what="master.pid")
        assert self.proc.poll() is None, self.read_stderr()
        if children:
            wait_for(lambda: len(self.live_children()) >= children, what="children")

    def pidfile_pid(self):
        try:
            with open(os.path.join(self.run_dir, "master.pid")) as f:
                return int(f.read().strip() or 0)
        except (FileNotFoundError, ValueError):
            return None

    def read_stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def infos(self):
        result = {}
        for path in glob.glob(os.path.join(self.state, "info.*.json")):
            with open(path) as f:
                info = json.load(f)
            result[info["pid"]] = info
        return result

    def live_children(self):
        return sorted(pid for pid in self.infos() if alive(pid))

    def ask_tcp(self, timeout=10.0):
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            return s.makefile().readline()

    def ask_unix(self, timeout=10.0):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(os.path.join(self.run_dir, "standin"))
            return s.makefile().readline()

    def error_log(self):
        return self.inst.log("loft.log")

    def info_log(self):
        return self.inst.log("loft-info.log")

    def wait_log(self, pattern, error=False, timeout=10.0):
        read = self.error_log if error else self.info_log
        return wait_for(lambda: re.search(pattern, read(), re.M), timeout,
                        what=f"log line {pattern!r}")

    def cleanup(self):
        """Stop whatever is left; returns the problems seen (a master that
        did not exit 0, sanitizer reports on its stderr)."""
        problems = []
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            if self.proc.returncode != 0:
                problems.append(f"loftd exited {self.proc.returncode}")
        if self.proc is not None:
            self.stderr.close()
            if "Sanitizer" in self.read_stderr():
                problems.append(self.read_stderr())
            problems += stderr_reports(self.error_log())
        detached = self.pidfile_pid()
        if detached and alive(detached):
            os.kill(detached, signal.SIGTERM)
            wait_for(lambda: not alive(detached), timeout=40, what="detached loftd")
        for pid in self.infos():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    ours = self.inst.root.encode() in f.read()
            except FileNotFoundError:
                continue
            if ours:
                problems.append(f"child {pid} left behind")
                os.kill(pid, signal.SIGKILL)
        return problems


@pytest.fixture
def master(inst):
    m = Master(inst)
    yield m
    assert m.cleanup() == []


def test_check_good_and_bad(master, inst):
    master.configure(master.service())
    r = loftd("-c", inst.conf, "--check")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "" and r.stderr == ""
    with open(inst.conf, "a") as f:
        f.write("no_such_setting = 1\n")
    with open(inst.conf) as f:
        line = len(f.read().splitlines())
    r = loftd("-c", inst.conf, "--check")
    assert r.returncode == 1
    assert r.stderr == f"{inst.conf}:{line}: Unknown setting: no_such_setting\n"
    master.configure("service empty {\n}\n")
    r = loftd("-c", inst.conf, "--check")
    assert r.returncode == 1
    assert re.match(rf"^{re.escape(inst.conf)}:\d+: service\(empty\): executable is not set\n$",
                    r.stderr), r.stderr
    r = loftd("-c", os.path.join(inst.root, "missing.conf"), "--check")
    assert r.returncode == 1 and "missing.conf" in r.stderr


def test_dump_n_and_a_parse_back(master, inst):
    master.configure(master.service(name="echo"),
                     extra="protocol lmtp {\n  hostname = lmtphost\n}\n")
    for flag in ("-n", "-a"):
        r = loftd("-c", inst.conf, flag)
        assert r.returncode == 0, r.stderr
        dumped = os.path.join(inst.root, f"dump{flag}.conf")
        with open(dumped, "w") as f:
            f.write(r.stdout)
        again = loftd("-c", dumped, "--check")
        assert again.returncode == 0, (flag, again.stderr, r.stdout)
        assert "service echo {" in r.stdout and f"port = {master.port}" in r.stdout
        assert loftd("-c", dumped, flag).stdout == r.stdout
    n_out = loftd("-c", inst.conf, "-n").stdout
    a_out = loftd("-c", inst.conf, "-a").stdout
    assert "hostname = testhost" in n_out and "process_limit" not in n_out
    assert "default_process_limit = 100" in a_out
    # the built-in lmtp service is an effective setting, not a changed one
    assert "service lmtp {" not in n_out
    assert re.search(r"service lmtp \{\n  executable = loft-lmtp\n", a_out), a_out
    assert "unix_listener lmtp {" in a_out


def test_usage_help_version(inst):
    assert loftd("--version").stdout.startswith("loftd ")
    r = loftd("-h")
    assert r.returncode == 0 and "Usage: loftd" in r.stdout
    assert loftd("-Q").returncode == 64
    assert loftd("-c", inst.conf, "frobnicate").returncode == 64
    assert loftd("-c", inst.conf, "-n", "--check").returncode == 64


def test_pidfile_second_instance_and_not_running(master, inst):
    master.configure(master.service())
    r = loftd("-c", inst.conf, "stop")
    assert r.returncode == 75 and "not running" in r.stderr
    r = loftd("-c", inst.conf, "reload")
    assert r.returncode == 75 and "not running" in r.stderr
    master.start()
    assert master.pidfile_pid() == master.proc.pid
    r = loftd("-c", inst.conf, "-F", timeout=10)
    assert r.returncode == 1
    assert f"already running with PID {master.proc.pid}" in r.stderr
    assert master.proc.poll() is None
    r = loftd("-c", inst.conf, "stop")
    assert r.returncode == 0, r.stderr
    assert master.proc.wait(timeout=5) == 0
    # a stale pid file naming a live process (no lock held) does not
    # block a start: the lock is what counts
    with open(os.path.join(master.run_dir, "master.pid"), "w") as f:
        f.write(f"{os.getpid()}\n")
    master.start()
    assert master.pidfile_pid() == master.proc.pid


def test_standin_gets_fds_env_and_answers(master, inst):
    master.configure(master.service(count=2),
                     extra="protocol lmtp {\n  hostname = lmtphost\n}\n")
    master.start(children=2)
    infos = master.infos()
    assert len(infos) == 2
    for pid, info in infos.items():
        assert info["service"] == "lmtp"
        assert info["listeners"] == ["inet:tcp", "unix:sock"]
        # 0-2, 3 snapshot, 4 status socket, 5-6 listeners, 7 log channel,
        # + listdir's own fd
        assert info["fds"][:8] == [0, 1, 2, 3, 4, 5, 6, 7] and len(info["fds"]) <= 9, info["fds"]
        assert info["snapshot_is_file"] and info["master_is_seqpacket"]
        assert info["nonblock"] == [True, True]
        assert info["stdin"] == "/dev/null" and info["stdout"] == "/dev/null"
        assert info["stderr"].startswith("pipe:"), info["stderr"]
        assert info["log_fd"] == "7" and info["log_server_fd"] is None
        assert info["log_is_seqpacket"]
        # the snapshot is the lmtp view: protocol lmtp { } applied
        assert "hostname = lmtphost" in info["snapshot"]
        assert "service lmtp {" in info["snapshot"]
    answers = {master.ask_tcp() for _ in range(6)}
    assert all(re.fullmatch(r"hello from \d+\n", a) for a in answers)
    assert {int(a.split()[2]) for a in answers} <= set(infos)
    sock = os.path.join(master.run_dir, "standin")
    assert stat.S_ISSOCK(os.stat(sock).st_mode)
    assert stat.S_IMODE(os.stat(sock).st_mode) == 0o660
    assert int(master.ask_unix().split()[2]) in infos
    for pid in infos:
        master.wait_log(rf"master<{master.proc.pid}>: Info: service\(lmtp\): process {pid} started$")
    # SIGUSR1 is forwarded to every child
    master.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: all(os.path.exists(os.path.join(master.state, f"usr1.{pid}"))
                         for pid in infos), what="SIGUSR1 forwarded")
    assert master.live_children() == sorted(infos)


def test_killed_child_replaced_listener_never_refuses(master, inst):
    slow = master.make_script("slow.py", delay=0.8)
    master.configure(master.service(script=slow))
    master.start()
    first = master.live_children()[0]
    assert master.ask_tcp() == f"hello from {first}\n"
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: not alive(first), what="child death")
    # the new child sleeps before accepting: this connect lands in the
    # master-held backlog, succeeds at once and is answered later
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", master.port), timeout=10) as s:
        connected = time.monotonic() - start
        reply = s.makefile().readline()
    assert connected < 0.5
    new = int(reply.split()[2])
    assert new != first and alive(new)
    master.wait_log(rf"Error: service\(lmtp\): child {first} killed with signal 9$", error=True)


def test_crash_loop_is_throttled(master, inst):
    crash = master.make_script("crash.py", crash=True)
    # no listener: only type = startup makes loftd start it
    services = textwrap.dedent(f"""\
        service crashy {{
          executable = {crash}
          type = startup
        }}
        """)
    master.configure(services, extra="protocols = none\n")
    master.start(children=0)
    master.wait_log(r"Error: service\(crashy\): command startup failed, throttling for 1 secs$",
                    error=True)
    log = master.error_log()
    assert re.search(r"Error: service\(crashy\): child \d+ returned error 3$", log, re.M)
    started = len(re.findall(r"service\(crashy\): process \d+ started", master.info_log()))
    assert started == 3
    master.wait_log(r"throttling for 2 secs$", error=True, timeout=6)
    started = len(re.findall(r"service\(crashy\): process \d+ started", master.info_log()))
    assert started == 4
    assert master.proc.poll() is None


def test_stop_leaves_nothing_behind(master, inst):
    fifo = os.path.join(master.run_dir, "standin-fifo")
    master.configure(master.service(count=2, extra_listeners="""\
        fifo_listener standin-fifo {
          mode = 0620
        }
        """))
    master.start(children=2)
    children = master.live_children()
    assert master.infos()[children[0]]["listeners"] == ["inet:tcp", "unix:sock",
                                                        "fifo:standin-fifo"]
    sock = os.path.join(master.run_dir, "standin")
    assert os.path.exists(sock)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert stat.S_IMODE(os.stat(fifo).st_mode) == 0o620
    r = loftd("-c", inst.conf, "stop")
    assert r.returncode == 0, r.stderr
    assert master.proc.wait(timeout=5) == 0
    assert not any(alive(pid) for pid in children)
    assert not os.path.exists(sock) and not os.path.exists(fifo)
    assert not os.path.exists(os.path.join(master.run_dir, "master.pid"))
    log = master.info_log()
    assert re.search(r"master<\d+>: Info: received SIGTERM, shutting down$", log, re.M)
    assert "child" not in master.error_log()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", master.port), timeout=2)


def test_sighup_with_broken_config_keeps_children(master, inst):
    master.configure(master.service())
    master.start()
    children = master.live_children()
    with open(inst.conf, "a") as f:
        f.write("bogus = 1\n")
    with open(inst.conf) as f:
        line = len(f.read().splitlines())
    master.proc.send_signal(signal.SIGHUP)
    master.wait_log(rf"Error: reload failed: {re.escape(inst.conf)}:{line}: Unknown setting: bogus$",
                    error=True)
    assert master.live_children() == children
    assert master.ask_tcp() == f"hello from {children[0]}\n"
    assert "config reloaded" not in master.info_log()


def test_reload_cli_with_broken_file_does_not_signal(master, inst):
    master.configure(master.service())
    master.start()
    with open(inst.conf, "a") as f:
        f.write("bogus = 1\n")
    r = loftd("-c", inst.conf, "reload")
    assert r.returncode == 1
    assert re.fullmatch(rf"{re.escape(inst.conf)}:\d+: Unknown setting: bogus\n", r.stderr)
    time.sleep(0.2)
    assert "SIGHUP" not in master.info_log()


def test_reload_changed_config_restarts_children(master, inst):
    master.configure(master.service())
    master.start()
    old = master.live_children()
    old_sock = os.path.join(master.run_dir, "standin")
    new_sock = os.path.join(master.run_dir, "standin2")
    # two processes now, the unix listener moves to a new path, TCP stays
    changed = master.service(count=2).replace("path = standin", "path = standin2")
    master.configure(changed)
    r = loftd("-c", inst.conf, "reload")
    assert r.returncode == 0, r.stderr
    master.wait_log(r"Info: config reloaded$")
    wait_for(lambda: not any(alive(pid) for pid in old), what="old children gone")
    new = wait_for(lambda: len(master.live_children()) == 2 and master.live_children(),
                   what="new children")
    assert not set(new) & set(old)
    for _ in range(4):
        assert int(master.ask_tcp().split()[2]) in new
    assert os.path.exists(new_sock) and not os.path.exists(old_sock)
    # retired children were asked to stop: not a crash, not replaced
    assert "child" not in master.error_log()
    assert len(master.live_children()) == 2


def test_bind_failure_is_fatal_at_start(master, inst):
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", master.port))
        busy.listen()
        master.configure(master.service())
        r = loftd("-c", inst.conf, "-F", timeout=10)
    assert r.returncode == 1
    assert (f"service(lmtp): bind(127.0.0.1:{master.port}) failed: Address already in use"
            in r.stderr)
    assert not os.path.exists(os.path.join(master.run_dir, "master.pid"))


def test_detached_start_and_stop(master, inst):
    master.configure(master.service())
    r = loftd("-c", inst.conf, timeout=10)
    assert r.returncode == 0, r.stderr
    pid = master.pidfile_pid()
    assert pid and alive(pid)
    try:
        wait_for(lambda: master.live_children(), what="child")
        assert master.ask_tcp().startswith("hello from ")
    finally:
        r = loftd("-c", inst.conf, "stop")
    assert r.returncode == 0, r.stderr
    assert not alive(pid)


def test_dump_hides_secrets_and_shows_protocol_blocks(tmp_path):
    conf = tmp_path / "loft.conf"
    conf.write_text(f"base_dir = {tmp_path}/run\nhttp_api_key = topsecret\n"
                    "default_internal_user = nobody\n"
                    "protocol lda {\n  lda_mailbox_autocreate = yes\n}\n")
    loftd = binary("loftd")
    out = subprocess.run([loftd, "-c", str(conf), "-n"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "topsecret" not in out.stdout
    assert "http_api_key = # hidden, use -P to show it" in out.stdout
    assert "protocol lda {\n  lda_mailbox_autocreate = yes\n}" in out.stdout
    shown = subprocess.run([loftd, "-c", str(conf), "-n", "-P"], capture_output=True, text=True)
    assert "http_api_key = topsecret" in shown.stdout
    again = tmp_path / "again.conf"
    again.write_text(shown.stdout)
    check = subprocess.run([loftd, "-c", str(again), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
