"""The Debian package, end to end, as an admin meets it.

Builds loft_VERSION_ARCH.deb from this build with CPack (what `cmake
--build build --target package` runs), checks it with lintian (no
errors), installs it with apt, starts the installed /usr/sbin/loftd
directly (systemd is not running here) with the shipped
/etc/loft/loft.conf, delivers to a real system user over the installed
UNIX socket and TCP (smtplib.LMTP) and through /usr/lib/loft/loft-lda (as
root with -d, and as the user, as Postfix's mailbox_command runs it),
checks the installed files, the loft user, the man pages and the HTTP API
key include, then removes (config, state and user stay) and purges (they
go; mail stays). The package is purged whatever happens.

It changes the machine (a package, the loft user, a test user, /run/loft),
so it needs root and takes a lock that keeps two runs (two worktrees, two
builds) apart. The rest of the suite never uses /run/loft, ports 24 or
9190 or the loft user; the test runs the shipped config with those two
ports (and nothing else) changed to free ones, so a demo loftd on 24 and
9190 is not disturbed either.
"""
import fcntl
import glob
import json
import os
import pwd
import grp
import re
import shutil
import signal
import smtplib
import stat
import subprocess
import tempfile
import time
import urllib.request

import pytest

from conftest import BUILD_BIN, free_port, wait_for

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0,
                       reason="installs a Debian package and adds users: needs root"),
    # what ships is the normal build: the suite's normal pass packages and
    # installs it; a package of sanitized programs is no product
    pytest.mark.skipif(os.environ.get("LOFT_SANITIZE") == "1",
                       reason="the package is made from the normal build, tested in its pass"),
]

BUILD_DIR = os.path.dirname(BUILD_BIN)
SOURCE = os.environ.get("LOFT_SOURCE",
                        os.path.join(os.path.dirname(__file__), "../.."))
LOCK = "/run/lock/loft-test-package.lock"
CONF_DIR = "/etc/loft"
CONF = "/etc/loft/loft.conf"
RUN_CONF = "/etc/loft/loft-test-package.conf"   # the shipped file, ports changed
BASE_DIR = "/run/loft"
STATE_DIR = "/var/lib/loft"
LIBEXEC = "/usr/lib/loft"
TEST_USER = "loftpkgtest"
WANTS = "/etc/systemd/system/multi-user.target.wants/loft.service"
APT = ["apt-get", "-y", "-q", "-o", "DPkg::Lock::Timeout=120",
       "--no-install-recommends"]


def run(argv, **kwargs):
    """argv's completed process; a failure shows its output"""
    kwargs.setdefault("timeout", 180)
    proc = subprocess.run(argv, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{argv}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def has_unit():
    """whether the tree has loft.service (the package then installs it)"""
    return os.path.exists(os.path.join(SOURCE, "packaging", "systemd", "loft.service"))


def installed(package="loft"):
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                          capture_output=True, text=True)
    return "installed" in proc.stdout and "not-installed" not in proc.stdout


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def message(subject):
    return (f"From: Sender <sender@example.org>\r\nTo: {TEST_USER}@example.com\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{subject}@example.org>\r\n\r\n"
            f"body of {subject}\r\n").encode()


def delivered(home, subject):
    """the files in ~/Maildir/new holding the message of that subject"""
    found = []
    for path in glob.glob(os.path.join(home, "Maildir", "new", "*")):
        with open(path, "rb") as f:
            if f"Subject: {subject}\n".encode() in f.read():
                found.append(path)
    return found


def processes_of(sid):
    """pids of the processes in session sid (loftd and its children)"""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            pids.append(int(entry))
    return pids


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


class InstalledLoftd:
    """/usr/sbin/loftd -F on RUN_CONF, in its own session so that it and
    every child can be found and stopped"""

    def __init__(self):
        self.proc = subprocess.Popen(["/usr/sbin/loftd", "-c", RUN_CONF, "-F"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                pass
        # anything of its session still there (a child that outlived it)
        leftover = processes_of(self.proc.pid)
        for pid in leftover:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        out = self.proc.stdout.read().decode("utf-8", "replace")
        self.proc.stdout.close()
        return leftover, out


def lmtp_deliver(lmtp, subject):
    lmtp.ehlo_or_helo_if_needed()
    refused = lmtp.sendmail("sender@example.org", [f"{TEST_USER}@example.com"],
                            message(subject))
    assert refused == {}, refused


def api_get(port, path, key):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, resp.read()


def check_preconditions():
    """nothing of a loft installation is on the machine: the test would
    purge it"""
    assert not installed(), "the loft package is installed already: this test installs and purges it"
    assert not user_exists("loft") and not group_exists("loft"), \
        "a loft user or group exists that no package made: a purge would remove it"
    pidfile = os.path.join(BASE_DIR, "master.pid")
    assert not os.path.exists(pidfile), f"{pidfile} exists: is a loftd using {BASE_DIR}?"


@pytest.fixture
def machine():
    """the lock, a scratch folder and the test user; afterwards the
    package purged and the user gone, whatever happened"""
    os.makedirs(os.path.dirname(LOCK), exist_ok=True)
    lock = open(LOCK, "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        check_preconditions()
    except BaseException:
        lock.close()
        raise
    scratch = tempfile.mkdtemp(prefix="loft-test-package-", dir="/var/tmp")
    os.chmod(scratch, 0o755)   # apt's _apt user reads the .deb from here
    made_policy = False
    try:
        if os.path.isdir("/run/systemd/system") and not os.path.exists("/usr/sbin/policy-rc.d"):
            # systemd would start loft.service on install: the test starts
            # loftd itself (policy-rc.d 101: no service starts)
            with open("/usr/sbin/policy-rc.d", "w") as f:
                f.write("#!/bin/sh\nexit 101\n")
            os.chmod("/usr/sbin/policy-rc.d", 0o755)
            made_policy = True
        if user_exists(TEST_USER):
            subprocess.run(["userdel", "-r", TEST_USER], capture_output=True)
        run(["useradd", "--create-home", "--home-dir", os.path.join(scratch, TEST_USER),
             "--shell", "/usr/sbin/nologin", TEST_USER])
        yield scratch
    finally:
        for path in (RUN_CONF, os.path.join(CONF_DIR, "private", "test-key.conf")):
            if os.path.exists(path):
                os.unlink(path)
        if subprocess.run(["dpkg-query", "-W", "loft"], capture_output=True).returncode == 0:
            subprocess.run(["dpkg", "--purge", "loft"], capture_output=True, timeout=180)
        subprocess.run(["userdel", "-r", TEST_USER], capture_output=True)
        if made_policy:
            os.unlink("/usr/sbin/policy-rc.d")
        shutil.rmtree(scratch, ignore_errors=True)
        lock.close()


def build_package(scratch):
    """the .deb CPack makes from this build, written into scratch"""
    config = os.path.join(BUILD_DIR, "CPackConfig.cmake")
    assert os.path.exists(config), f"{config} missing: configure the build first"
    with open(os.path.join(BUILD_DIR, "CMakeCache.txt")) as f:
        prefix = re.search(r"^CMAKE_INSTALL_PREFIX:PATH=(.*)$", f.read(), re.M).group(1)
    assert prefix == "/usr", f"{BUILD_DIR} is configured with prefix {prefix}: a Debian package needs /usr"
    run(["cpack", "--config", config, "-B", scratch], timeout=300)
    debs = glob.glob(os.path.join(scratch, "loft_*.deb"))
    assert len(debs) == 1, debs
    return debs[0]


def start_lintian(deb):
    """lintian on deb, running while the test goes on (it takes half a
    minute); --allow-root: it only reads the package"""
    return subprocess.Popen(["lintian", "--allow-root", "--fail-on", "error", deb],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def check_lintian(lintian):
    out, _ = lintian.communicate(timeout=300)
    errors = [line for line in out.splitlines() if line.startswith("E:")]
    assert lintian.returncode == 0 and not errors, out


def check_contents(deb):
    """every program of the build is in the package, where Debian's
    Dovecot would put it"""
    listing = run(["dpkg-deb", "-c", deb]).stdout
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    places = {"loftd": ["/usr/sbin"], "loftadm": ["/usr/bin"]}
    for name in ("loft-lmtp", "loft-stats", "loft-log", "loft-auth", "loft-lda"):
        places[name] = [LIBEXEC]
    for name in os.listdir(BUILD_BIN):
        # another program: a command (/usr/bin) or loftd's (/usr/lib/loft)
        dirs = places.get(name, ["/usr/bin", LIBEXEC])
        assert any(f"{d}/{name}" in files for d in dirs), \
            f"{name} of build/bin is not packaged (in {' or '.join(dirs)}):\n{listing}"
    for path in ("/etc/loft/loft.conf", "/etc/logrotate.d/loft", "/var/lib/loft/",
                 "/usr/share/loft/loft-grafana.json", "/usr/share/loft/loft-alerts.yml",
                 "/usr/share/bash-completion/completions/loftadm",
                 "/usr/share/doc/loft/copyright", "/usr/share/doc/loft/changelog.gz"):
        assert path in files, f"{path} not packaged:\n{listing}"
    assert not [f for f in files if f.startswith("/run") or f.startswith("/var/run")], listing
    if has_unit():
        assert "/lib/systemd/system/loft.service" in files, listing
    control = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    # dpkg-shlibdeps: the libraries the programs link, and adduser
    for lib in ("libc6", "libjson-c5", "libsqlite3-0", "libmicrohttpd12", "libprotobuf-c1",
                "adduser"):
        assert re.search(rf"(^|, ){re.escape(lib)}\b", control), control


def check_installed_files():
    conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "loft"]).stdout
    assert re.search(r"^ /etc/loft/loft\.conf [0-9a-f]{32}$", conffiles, re.M), conffiles
    assert re.search(r"^ /etc/logrotate\.d/loft [0-9a-f]{32}$", conffiles, re.M), conffiles
    for path in ("/usr/sbin/loftd", "/usr/bin/loftadm", f"{LIBEXEC}/loft-lmtp",
                 f"{LIBEXEC}/loft-stats", f"{LIBEXEC}/loft-log", f"{LIBEXEC}/loft-lda"):
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == 0o755 and st.st_uid == 0, path
    # the loft system user: a system uid, no home, no login
    loft = pwd.getpwnam("loft")
    assert loft.pw_uid < 1000 and loft.pw_gid == grp.getgrnam("loft").gr_gid, loft
    assert loft.pw_dir == "/nonexistent" and loft.pw_shell in ("/usr/sbin/nologin",
                                                               "/bin/false"), loft
    st = os.stat(STATE_DIR)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (loft.pw_uid, loft.pw_gid,
                                                                0o750)
    st = os.stat(os.path.join(CONF_DIR, "private"))
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o700)
    assert stat.S_IMODE(os.stat(CONF).st_mode) == 0o644
    # the shipped config passes --check as it is, and the logrotate rule
    # parses (logrotate -d changes nothing)
    run(["/usr/sbin/loftd", "-c", CONF, "--check"])
    run(["/usr/sbin/loftd", "--check"])   # the compiled-in default path
    check_commented_defaults()
    if shutil.which("logrotate"):
        run(["logrotate", "-d", "/etc/logrotate.d/loft"])
    with open(CONF) as f:
        text = f.read()
    for line in ("mail_location = maildir:~/Maildir", "  driver = passwd",
                 "syslog_facility = mail", "mailbox_command = /usr/lib/loft/loft-lda",
                 "flags=DRhu user=vmail:vmail argv=/usr/lib/loft/loft-lda",
                 "mailbox_transport = lmtp:inet:127.0.0.1:24", "    port = 9190",
                 "    port = 24", "#http_api_allowed_hosts ="):
        assert line in text, line


def settings_by_block(lines, commented):
    """{(block, name): value} of a config text: block is "" at the top and
    "service lmtp" in that block; with commented, the "#name = value"
    lines (a default shown in a comment) instead of the set ones"""
    found, blocks = {}, []
    for line in lines:
        text = line.strip()
        if text.endswith("{") and not text.startswith("#"):
            blocks.append(text[:-1].strip())
            continue
        if text == "}":
            blocks.pop()
            continue
        m = re.match(r"^#(\w+) = ?(.*)$" if commented else r"^(\w+) = ?(.*)$", text)
        if m and len(blocks) <= 1:
            value = m.group(2)
            found[(" ".join(blocks), m.group(1))] = "" if value == '""' else value.strip('"')
    return found


def check_commented_defaults():
    """every "#setting = value" of the shipped config is a setting, shown
    with the value loftd has for it (`loftd -a`): the comments cannot
    drift from the settings table"""
    with open(CONF) as f:
        shown = settings_by_block(f.read().splitlines(), commented=True)
    actual = settings_by_block(
        run(["/usr/sbin/loftd", "-c", CONF, "-a"]).stdout.splitlines(), commented=False)
    assert len(shown) > 40, shown
    for key, value in shown.items():
        assert key in actual, f"{CONF}: #{key[1]} is not a setting loftd -a prints"
        assert actual[key] == value, f"{CONF}: #{key[1]} = {value}, but loftd -a: {actual[key]}"


def check_man_pages():
    """each installed man page renders without a groff or man warning;
    when the tree generates loftd(8), loft-lda(1) and loft.conf(5) they
    are all installed"""
    pages = [p for p in run(["dpkg", "-L", "loft"]).stdout.splitlines()
             if p.startswith("/usr/share/man/") and os.path.isfile(p)]
    want = ["/usr/share/man/man1/loftadm.1.gz"]
    if os.path.exists(os.path.join(SOURCE, "docs", "loft.conf.5.in")):
        want += ["/usr/share/man/man8/loftd.8.gz", "/usr/share/man/man1/loft-lda.1.gz",
                 "/usr/share/man/man5/loft.conf.5.gz"]
    for page in want:
        assert page in pages, pages
    for page in pages:
        proc = subprocess.run(["man", "--warnings", "-l", page], capture_output=True,
                              text=True, env=dict(os.environ, MANWIDTH="80", MAN_KEEP_FORMATTING="0"),
                              timeout=60)
        assert proc.returncode == 0 and proc.stderr == "" and len(proc.stdout) > 200, \
            f"{page}: {proc.stderr}"


def run_config(lmtp_port, http_port):
    """the shipped config with its two TCP ports changed (24 and 9190 may
    be a demo's), written next to it so its relative include still
    resolves to /etc/loft/private/"""
    with open(CONF) as f:
        text = f.read()
    assert text.count("    port = 24\n") == 1 and text.count("    port = 9190\n") == 1
    text = text.replace("    port = 24\n", f"    port = {lmtp_port}\n")
    text = text.replace("    port = 9190\n", f"    port = {http_port}\n")
    with open(RUN_CONF, "w") as f:
        f.write(text)


def test_package_installs_delivers_and_purges(machine):
    scratch = machine
    user = pwd.getpwnam(TEST_USER)
    deb = build_package(scratch)
    lintian = start_lintian(deb)
    try:
        check_contents(deb)
        install_and_deliver(deb, user)
    except BaseException:
        lintian.kill()
        lintian.wait()
        raise
    check_lintian(lintian)
    remove_and_purge(user)


def install_and_deliver(deb, user):
    """apt install, the installed files, then the installed loftd and
    loft-lda delivering to user"""
    run(APT + ["install", deb], timeout=300)
    assert installed()
    check_installed_files()
    check_man_pages()
    if has_unit():
        # enabled on install (deb-systemd-helper works without systemd)
        assert os.path.islink(WANTS), WANTS

    # an HTTP API key where the config says to put it: loftd reads it,
    # loft-lda run as a mail user does not see it
    key = "package-test-" + os.urandom(8).hex()
    key_file = os.path.join(CONF_DIR, "private", "test-key.conf")
    with open(os.open(key_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(f"http_api_key = {key}\n")

    lmtp_port = free_port()
    http_port = free_port()
    while http_port == lmtp_port:
        http_port = free_port()
    run_config(lmtp_port, http_port)
    daemon = InstalledLoftd()
    leftover, out = [], ""
    try:
        socket_path = os.path.join(BASE_DIR, "lmtp")
        up = wait_for(lambda: os.path.exists(socket_path) and daemon.proc.poll() is None
                      and os.path.exists(os.path.join(BASE_DIR, "admin")), timeout=20)
        assert up, f"loftd did not come up (exit {daemon.proc.poll()})"
        # base_dir made by loftd itself, the socket open to Postfix
        assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o666

        with smtplib.LMTP(socket_path) as lmtp:
            lmtp_deliver(lmtp, "over-unix-socket")
        with smtplib.LMTP("127.0.0.1", lmtp_port) as lmtp:
            lmtp_deliver(lmtp, "over-tcp")
        # loft-lda as root with -d, the config from its default path
        proc = subprocess.run([f"{LIBEXEC}/loft-lda", "-d", TEST_USER, "-f",
                               "sender@example.org", "-e"],
                              input=message("through-lda-as-root"), capture_output=True,
                              timeout=60)
        assert proc.returncode == 0, proc.stderr
        # loft-lda as the recipient, as mailbox_command runs it
        proc = subprocess.run([f"{LIBEXEC}/loft-lda", "-f", "sender@example.org", "-e"],
                              input=message("through-lda-as-user"), capture_output=True,
                              user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                              env={"HOME": user.pw_dir, "USER": TEST_USER,
                                   "PATH": "/usr/bin:/bin"}, timeout=60)
        assert proc.returncode == 0, proc.stderr

        for subject in ("over-unix-socket", "over-tcp", "through-lda-as-root",
                        "through-lda-as-user"):
            files = delivered(user.pw_dir, subject)
            assert len(files) == 1, (subject, files)
            st = os.stat(files[0])
            assert (st.st_uid, st.st_gid) == (user.pw_uid, user.pw_gid), subject

        # loft-stats runs as the loft user and journals into state_dir
        stats = [p for p in processes_of(daemon.proc.pid) if comm(p) == "loft-stats"]
        assert len(stats) == 1, "no loft-stats"
        with open(f"/proc/{stats[0]}/status") as f:
            uid = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
        assert int(uid) == pwd.getpwnam("loft").pw_uid
        # the key from private/ works; every delivery is in the journal
        assert wait_for(lambda: os.path.exists(os.path.join(STATE_DIR, "journal.db")))

        def journaled():
            status, body = api_get(http_port, f"/api/v1/deliveries?user={TEST_USER}", key)
            text = body.decode()
            return status == 200 and all(s in text for s in (
                "over-unix-socket@", "over-tcp@", "through-lda-as-root@",
                "through-lda-as-user@"))
        assert wait_for(journaled, timeout=15), api_get(
            http_port, f"/api/v1/deliveries?user={TEST_USER}", key)
        # loftadm with no -c: the default config and base_dir
        proc = run(["/usr/bin/loftadm", "-f", "json", "deliveries", "--user", TEST_USER])
        assert len(json.loads(proc.stdout)) >= 4, proc.stdout
    finally:
        leftover, out = daemon.stop()
    assert not leftover, f"processes outlived loftd: {leftover}"
    assert "Sanitizer" not in out and "runtime error" not in out, out
    os.unlink(RUN_CONF)
    os.unlink(key_file)


def remove_and_purge(user):
    """remove keeps config, state and the loft user; purge removes them"""
    # remove (dpkg runs the same maintainer scripts apt would, faster): the config, the state and the user stay
    run(["dpkg", "--remove", "loft"])
    assert not os.path.exists("/usr/sbin/loftd")
    assert os.path.exists(CONF) and os.path.exists(os.path.join(STATE_DIR, "journal.db"))
    assert user_exists("loft")
    if has_unit():
        assert os.readlink("/etc/systemd/system/loft.service") == "/dev/null"
    # purge: they go; the mail stays
    run(["dpkg", "--purge", "loft"])
    assert subprocess.run(["dpkg-query", "-W", "loft"], capture_output=True).returncode != 0
    assert not os.path.exists(CONF_DIR), os.listdir(CONF_DIR)
    assert not os.path.exists(STATE_DIR) and not os.path.exists(BASE_DIR)
    assert not user_exists("loft") and not group_exists("loft")
    if has_unit():
        assert not os.path.lexists(WANTS)
        assert not os.path.lexists("/etc/systemd/system/loft.service")   # remove's mask
    assert len(delivered(user.pw_dir, "over-tcp")) == 1
