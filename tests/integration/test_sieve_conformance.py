"""Sieve conformance: every case of tests/sieve/cases (a script whose
leading comments name its message in tests/sieve/messages and its
envelope; the scripts it includes are in tests/sieve/include) is run by loft's interpreter (loft-sieve-test) and by
Pigeonhole's sieve-test (Debian's dovecot-sieve, with a private minimal
dovecot config, no running dovecot), and the two action lists must be
the same once normalized. Each case's .expected file holds Pigeonhole's
normalized answer, so the comparison still runs where dovecot-sieve is
not installed; where it is, the stored answer is checked against it too.
A case where loft deliberately differs (sieve/README.md lists them) has a
.loft file with loft's answer beside Pigeonhole's .expected one.

Run directly to see the differences or re-record the expected files:
  python3 tests/integration/test_sieve_conformance.py [--record] [CASE...]
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("LOFT_SOURCE", os.path.join(HERE, "..", ".."))
SIEVE_DIR = os.path.join(SOURCE, "tests", "sieve")
CASES = sorted(glob.glob(os.path.join(SIEVE_DIR, "cases", "*.sieve")))
BUILD_BIN = os.path.abspath(os.environ.get(
    "LOFT_BIN", os.path.join(HERE, "..", "..", "build", "bin")))
SIEVE_TEST = shutil.which("sieve-test")

DEFAULTS = {"message": "plain.eml", "from": "alice@example.org",
            "to": "bob@example.com"}


def case_meta(path):
    """The case's message and envelope from its leading comments."""
    meta = dict(DEFAULTS)
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"#\s*(message|from|to):\s*(.*?)\s*$", line)
            if not m:
                break
            meta[m.group(1)] = m.group(2)
    return meta


def loft_actions(path, meta):
    """loft-sieve-test's normalized action list."""
    msg = os.path.join(SIEVE_DIR, "messages", meta["message"])
    proc = subprocess.run(
        [os.path.join(BUILD_BIN, "loft-sieve-test"), "-f", meta["from"],
         "-r", meta["to"], "-a", meta["to"],
         "-d", os.path.join(SIEVE_DIR, "include", "personal"),
         "-g", os.path.join(SIEVE_DIR, "include", "global"), path, msg],
        capture_output=True, text=True, timeout=30)
    # a sanitizer build reports leaks and undefined behaviour here
    assert "Sanitizer" not in proc.stderr and "runtime error" not in proc.stderr, \
        proc.stderr
    assert proc.returncode in (0, 1, 65), proc.stderr
    lines = []
    for line in proc.stdout.splitlines():
        if line.startswith("reject ") or line.startswith("ereject "):
            # sieve-test shows a reason's line breaks as "??"
            line = line.replace("\\x0d\\x0a", "??")
        lines.append(line)
    return lines


DOVECOT_CONF = """\
mail_location = maildir:{dir}/mail
log_path = /dev/stderr
plugin {{
  sieve = file:{sieve}/include/personal
  sieve_global = {sieve}/include/global
  sieve_extensions = +vacation-seconds +editheader
}}
"""


def pigeonhole_actions(path, meta, workdir):
    """sieve-test's output normalized to loft's action list form."""
    conf = os.path.join(workdir, "dovecot.conf")
    if not os.path.exists(conf):
        with open(conf, "w") as f:
            f.write(DOVECOT_CONF.format(dir=workdir, sieve=SIEVE_DIR))
    msg = os.path.join(SIEVE_DIR, "messages", meta["message"])
    path = os.path.join(SIEVE_DIR, "cases", os.path.basename(path))
    cmd = [SIEVE_TEST, "-c", conf, "-o", "mail_home=" + workdir,
           "-f", meta["from"], "-r", meta["to"], "-a", meta["to"]]
    if os.geteuid() == 0:
        cmd += ["-o", "mail_uid=65534", "-o", "mail_gid=65534",
                "-o", "first_valid_uid=1", "-o", "first_valid_gid=1"]
    proc = subprocess.run(cmd + [path, msg], capture_output=True, text=True,
                          timeout=30)
    out = proc.stdout + proc.stderr
    if "failed to compile" in out:
        return ["compile-error"]
    lines, section, cur = [], None, None
    if "final result: failed" in out:
        # a runtime error: no actions, only the implicit keep
        if "resolved with successful implicit keep" in out:
            return ["error", "implicit-keep INBOX"]
        return ["error"]

    def flush():
        nonlocal cur
        if cur is not None:
            kind, target, extra = cur
            text = kind + (" " + target if target is not None else "")
            if extra.get("flags"):
                text += " flags=" + ",".join(extra["flags"])
            if kind in ("store", "implicit-keep") and extra.get("create"):
                text += " create"
            if extra.get("copy"):
                text += " copy"
            for key in ("subject", "from"):
                if key in extra:
                    text += " %s=%s" % (key, extra[key])
            lines.append(text)
        cur = None

    in_message = False
    for raw in proc.stdout.splitlines():
        line = raw.strip()
        if line == "START MESSAGE":
            in_message = True
            continue
        if line == "END MESSAGE":
            in_message = False
            continue
        if in_message:
            continue
        if line == "Performed actions:":
            section = "performed"
            continue
        if line == "Implicit keep:":
            flush()
            section = "keep"
            continue
        if section is None or not line:
            continue
        if line.startswith("* "):
            flush()
            body = line[2:]
            m = re.match(r"store message in folder: (.*)", body)
            if m:
                cur = ("implicit-keep" if section == "keep" else "store",
                       m.group(1), {})
            elif body.startswith("redirect message to: "):
                cur = ("redirect", body[len("redirect message to: "):].strip("<>"), {})
            elif body == "discard":
                cur = ("discard", None, {})
            elif body.startswith("reject message with reason: "):
                cur = ("reject", body[len("reject message with reason: "):], {})
            elif body.startswith("send vacation message:"):
                cur = ("vacation", None, {})
            elif re.match(r"track( last)? duplicate", body):
                m = re.match(r"track( last)? duplicate(?: with handle: (.*))?$", body)
                text = "duplicate-track" + (" last" if m.group(1) else "")
                if m.group(2) is not None:
                    text += " handle=" + m.group(2)
                cur = (text, None, {})
            else:
                cur = ("unknown:" + body, None, {})
        elif line.startswith("+ ") and cur is not None:
            what = line[2:]
            if what.startswith("add IMAP flags: "):
                cur[2]["flags"] = what[len("add IMAP flags: "):].split()
            elif what == "create mailbox if it does not exist":
                cur[2]["create"] = True
            elif what == "preserve implicit keep":
                cur[2]["copy"] = True
        elif line.startswith("=> ") and cur is not None and cur[0] == "vacation":
            key, _, value = line[3:].partition(":")
            key, value = key.strip(), value.strip()
            if key == "seconds":
                cur = ("vacation", "seconds=" + value, cur[2])
            elif key in ("subject", "from"):
                cur[2][key] = value
    flush()
    return lines


def expected_path(case):
    return case[:-len(".sieve")] + ".expected"


def read_expected(case):
    with open(expected_path(case)) as f:
        return f.read().splitlines()


def loft_expected(case):
    """loft's answer: Pigeonhole's, or the .loft file of a deliberate
    difference."""
    path = case[:-len(".sieve")] + ".loft"
    if os.path.exists(path):
        with open(path) as f:
            return f.read().splitlines()
    return read_expected(case)


def check_case(case, workdir):
    meta = case_meta(case)
    got = loft_actions(case, meta)
    want = read_expected(case)
    assert got == loft_expected(case), "%s: loft %r, Pigeonhole %r" % (
        os.path.basename(case), got, want)
    # Pigeonhole's answers do not depend on how loft is built: checked
    # once, in the normal build's run, not again under the sanitizers
    if SIEVE_TEST is not None and os.environ.get("LOFT_SANITIZE") != "1":
        live = pigeonhole_actions(case, meta, workdir)
        assert live == want, "%s: stored %r, sieve-test now %r" % (
            os.path.basename(case), want, live)


try:
    import pytest

    @pytest.fixture(scope="module")
    def workdir():
        d = tempfile.mkdtemp(prefix="loft-sieve-conf-")
        os.chmod(d, 0o777)
        yield d
        shutil.rmtree(d, True)

    @pytest.fixture(scope="module", autouse=True)
    def readable_corpus():
        """sieve-test as root runs as mail_uid (nobody): it reads the
        scripts and messages from a world-readable copy, since a checkout
        may sit in a folder only root can enter (.ci/run's is 0700)"""
        global SIEVE_DIR
        source = SIEVE_DIR
        copy = tempfile.mkdtemp(prefix="loft-sieve-corpus-")
        os.chmod(copy, 0o755)
        SIEVE_DIR = os.path.join(copy, "sieve")
        shutil.copytree(source, SIEVE_DIR)
        for root, dirs, files in os.walk(copy):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)
        yield
        SIEVE_DIR = source
        shutil.rmtree(copy, True)

    @pytest.mark.parametrize("case", CASES,
                             ids=[os.path.basename(c)[:-6] for c in CASES])
    def test_case(case, workdir):
        check_case(case, workdir)

    def test_corpus_size():
        # the issue asks for at least 150 cases
        assert len(CASES) >= 150, len(CASES)
except ImportError:
    pass


def main(argv):
    record = "--record" in argv
    names = [a for a in argv if not a.startswith("--")]
    cases = [c for c in CASES if not names or
             os.path.basename(c)[:-6] in names]
    workdir = tempfile.mkdtemp(prefix="loft-sieve-conf-")
    os.chmod(workdir, 0o777)
    failed = 0
    try:
        for case in cases:
            meta = case_meta(case)
            live = pigeonhole_actions(case, meta, workdir)
            if record:
                with open(expected_path(case), "w") as f:
                    f.write("".join(line + "\n" for line in live))
            got = loft_actions(case, meta)
            if os.path.exists(case[:-len(".sieve")] + ".loft"):
                live = loft_expected(case)
            if got != live:
                failed += 1
                print("DIFF %s\n  loft:       %s\n  pigeonhole: %s" % (
                    os.path.basename(case), got, live))
    finally:
        shutil.rmtree(workdir, True)
    print("%d cases, %d differ" % (len(cases), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
