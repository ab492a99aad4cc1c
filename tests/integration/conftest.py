"""Shared fixtures for loft's integration tests.

Every test gets a private instance: a folder with a loft.conf, a
passwd-file userdb, a vmail tree and log files, and helpers that run the
real binaries from $LOFT_BIN (build/bin; as root, copies of them staged
where every user can reach them). Tests that switch users need root (CI
runs as root); they skip elsewhere.
"""
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import textwrap

import pytest

NOBODY = pwd.getpwnam("nobody")


def stage_programs(build_bin):
    """The programs of build_bin copied into a fresh 0755 folder under
    /var/tmp, removed when the test process exits.

    loftd execs its services from its own folder, and with
    drop_priv_before_exec (or a service user reading what it execs) that
    folder must be reachable by the service user. A checkout under a 0700
    folder (/root, a private home, a mktemp -d) is not, so as root every
    test runs the staged copies: the same programs, from a path any user
    can traverse, whatever the checkout's."""
    import atexit
    stage = tempfile.mkdtemp(prefix="loft-test-bin-", dir="/var/tmp")
    atexit.register(shutil.rmtree, stage, True)
    os.chmod(stage, 0o755)
    for name in os.listdir(build_bin):
        src = os.path.join(build_bin, name)
        if os.path.isfile(src) and os.access(src, os.X_OK):
            shutil.copy2(src, os.path.join(stage, name))
    return stage


BUILD_BIN = os.path.abspath(os.environ.get(
    "LOFT_BIN", os.path.join(os.path.dirname(__file__), "../../build/bin")))
BIN = stage_programs(BUILD_BIN) if os.geteuid() == 0 else BUILD_BIN

SAMPLE = (b"From: Sender <sender@example.org>\r\n"
          b"To: user0@example.com\r\n"
          b"Subject: hello\r\n"
          b"Message-ID: <m1@example.org>\r\n"
          b"\r\n"
          b"Hello, this is a test body.\r\n"
          b"From the start of a line\r\n"
          b"last line\r\n")


def binary(name):
    return os.path.join(BIN, name)


def is_root():
    return os.geteuid() == 0


needs_root = pytest.mark.skipif(not is_root(), reason="needs root")


class Instance:
    """A private loft installation under one temporary folder."""

    def __init__(self, root):
        self.root = root
        self.vmail = os.path.join(root, "vmail")
        self.logdir = os.path.join(root, "log")
        self.conf = os.path.join(root, "loft.conf")
        self.passwd = os.path.join(root, "passwd")
        os.makedirs(self.vmail)
        os.makedirs(self.logdir)
        os.makedirs(os.path.join(root, "run"))
        if is_root():
            os.chown(self.vmail, NOBODY.pw_uid, NOBODY.pw_gid)
        self.users = []
        self.extra = ""
        self.userdb = None  # userdb { } text for every write_conf; None: passwd-file

    def add_user(self, name, uid=None, gid=None, home=None, extra=""):
        uid = NOBODY.pw_uid if uid is None else uid
        gid = NOBODY.pw_gid if gid is None else gid
        home = home if home is not None else ""
        self.users.append(f"{name}::{uid}:{gid}::{home}::{extra}")
        self.write_passwd()

    def write_passwd(self):
        with open(self.passwd, "w") as f:
            f.write("\n".join(self.users) + "\n")

    def write_conf(self, extra="", mail_location="maildir:~/Maildir", userdb=None):
        userdb = userdb if userdb is not None else self.userdb
        userdb = userdb if userdb is not None else f"""
            userdb {{
              driver = passwd-file
              args = {self.passwd}
            }}"""
        text = textwrap.dedent(f"""\
            base_dir = {self.root}/run
            state_dir = {self.root}/state
            hostname = testhost
            log_path = {self.logdir}/loft.log
            info_log_path = {self.logdir}/loft-info.log
            mail_home = {self.vmail}/%d/%n
            mail_location = {mail_location}
            first_valid_uid = 100
            default_internal_user = nobody
            """) + textwrap.dedent(userdb) + "\n" + textwrap.dedent(extra) + "\n"
        with open(self.conf, "w") as f:
            f.write(text)

    def home(self, user):
        local, _, domain = user.partition("@")
        return os.path.join(self.vmail, domain, local)

    def maildir(self, user, folder=""):
        return os.path.join(self.home(user), "Maildir", folder)

    def new_files(self, user, folder=""):
        d = os.path.join(self.maildir(user, folder), "new")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def tmp_files(self, user, folder=""):
        d = os.path.join(self.maildir(user, folder), "tmp")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def lda(self, *args, msg=SAMPLE, conf=True, **kwargs):
        cmd = [binary("loft-lda")]
        if conf:
            cmd += ["-c", self.conf]
        cmd += list(args)
        return subprocess.run(cmd, input=msg, capture_output=True, timeout=60, **kwargs)

    def log(self, name="loft-info.log"):
        path = os.path.join(self.logdir, name)
        if not os.path.exists(path):
            return ""
        with open(path) as f:
            return f.read()


@pytest.fixture
def inst():
    root = tempfile.mkdtemp(prefix="loft-it-")
    os.chmod(root, 0o755)
    instance = Instance(root)
    instance.add_user("user0@example.com")
    instance.add_user("user1@example.com")
    instance.write_conf()
    yield instance
    shutil.rmtree(root, ignore_errors=True)


def free_port():
    """A TCP port nothing uses on any address, below the kernel's range of
    ephemeral ports: a port from that range may be taken a moment later as
    the source port of some test's outgoing connection, and its TIME_WAIT
    then keeps loftd from binding "*" to it."""
    import errno
    import random
    import socket
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    for _ in range(200):
        port = random.randrange(10000, max(low, 10001))
        free = True
        for family, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            try:
                with socket.socket(family) as s:
                    if family == socket.AF_INET6:
                        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    s.bind((addr, port))
            except OSError as e:
                # a host without IPv6 decides on IPv4 alone
                free = free and e.errno != errno.EADDRINUSE
        if free:
            return port
    raise RuntimeError("no free TCP port below the ephemeral range")


def wait_for(predicate, timeout=10.0, interval=0.05):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Daemon:
    """loftd -F on an Instance, serving LMTP on TCP and a UNIX socket."""

    def __init__(self, inst, extra="", service_extra=""):
        self.inst = inst
        self.port = free_port()
        self.socket = os.path.join(inst.root, "run", "lmtp")
        inst.write_conf(extra=textwrap.dedent(extra) + textwrap.dedent(f"""
            service lmtp {{
              inet_listener lmtp {{
                address = 127.0.0.1
                port = {self.port}
              }}
              unix_listener lmtp {{
                mode = 0666
              }}
              {service_extra}
            }}
            """))
        self.proc = None

    def start(self, wrap=(), preexec_fn=None):
        """wrap: a command that execs loftd (setpriv ...); preexec_fn: run
        in the child before that (resource limits)"""
        self.proc = subprocess.Popen(list(wrap) + [binary("loftd"), "-c", self.inst.conf, "-F"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     preexec_fn=preexec_fn)
        ok = wait_for(lambda: self.connectable() or self.proc.poll() is not None)
        if not ok or self.proc.poll() is not None:
            out = self.proc.stdout.read().decode() if self.proc.poll() is not None else ""
            raise RuntimeError(f"loftd did not come up: {out}\n{self.inst.log('loft.log')}")
        return self

    def connectable(self):
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                return s.recv(100).startswith(b"220 ")
        except OSError:
            return False

    def children(self, name="loft-lmtp"):
        """loftd's child processes running name (None: all of them)."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        pids = []
        for p in out.stdout.split():
            try:
                with open(f"/proc/{p}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if name is None or comm == name[:15]:
                pids.append(int(p))
        return pids

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # checked even when the test stopped loftd itself
        # loft-log inherits loftd's stderr: its sanitizer reports land here
        out = read_to_eof(self.proc.stdout, 30).decode("utf-8", "replace")
        assert "Sanitizer" not in out and "runtime error" not in out, out
        # the other children's stderr is logged as "stderr:" error lines
        reports = stderr_reports(self.inst.log("loft.log"))
        assert not reports, reports


def read_to_eof(pipe, timeout):
    """All of pipe until every writer has closed it; a process of loft's
    still holding it after timeout seconds (a child that outlived loftd)
    fails the test instead of hanging it"""
    import select
    import time
    deadline = time.monotonic() + timeout
    data = b""
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([pipe], [], [], max(left, 0))
        if not ready:
            held = subprocess.run(["pgrep", "-a", "loft-"], capture_output=True,
                                  text=True).stdout
            raise AssertionError(f"loftd's output still open after {timeout} s "
                                 f"(a child outlived loftd?):\n{held}")
        chunk = pipe.read1(65536)
        if not chunk:
            return data
        data += chunk


def stderr_reports(log):
    """Sanitizer reports among a log's captured stderr lines."""
    return re.findall(r"^.*: Error: stderr: .*(?:Sanitizer|runtime error).*$", log, re.M)


@pytest.fixture
def daemon(inst):
    d = Daemon(inst)
    yield d
    d.stop()
