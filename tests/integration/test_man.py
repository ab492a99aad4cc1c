"""The man pages (built into build/man by docs/CMakeLists.txt): each
renders with `man -l` and groff without a warning, loft.conf(5) lists
every setting `loftd -a` prints (it is generated from the same table)
with its type and default, and every loft page a SEE ALSO names exists."""
import os
import re
import subprocess

import pytest

from conftest import Daemon, binary, BUILD_BIN

MAN_DIR = os.path.join(os.path.dirname(BUILD_BIN), "man")
PAGES = ["loftd.8", "loft-lda.1", "loftadm.1", "loft.conf.5"]


def page(name):
    return os.path.join(MAN_DIR, name)


def render(name, width=80):
    r = subprocess.run(["man", "--warnings", "-l", page(name)], capture_output=True,
                       text=True, env=dict(os.environ, MANWIDTH=str(width), MAN_KEEP_FORMATTING="",
                                           MANPAGER="cat", PAGER="cat"), timeout=60)
    return r


@pytest.mark.parametrize("name", PAGES)
def test_renders_without_warnings(name):
    assert os.path.exists(page(name)), f"{page(name)} not built"
    r = render(name)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.count("\n") > 20
    r = subprocess.run(["groff", "-man", "-ww", "-z", page(name)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr


@pytest.mark.parametrize("name", PAGES)
def test_see_also_names_existing_pages(name):
    with open(page(name)) as f:
        roff = f.read()
    see_also = roff.split(".SH SEE ALSO", 1)[1]
    for ref, section in re.findall(r"^\.BR (\S+) \((\d)\)", see_also, re.M):
        ref = ref.replace("\\-", "-")
        if ref.startswith("loft"):
            assert f"{ref}.{section}" in PAGES, f"{name} names {ref}({section})"


def sections(text):
    """{SECTION HEADING: its text} of a rendered page"""
    parts = re.split(r"^([A-Z][A-Z ]+)$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def settings_by_block(inst):
    """{block kind: setting names} from `loftd -a` on a config with a
    userdb, an inet and a unix listener: every entry of every table"""
    Daemon(inst)  # writes the config with both listener kinds
    out = subprocess.run([binary("loftd"), "-c", inst.conf, "-a"], capture_output=True,
                         text=True, check=True).stdout
    blocks = {"global": set(), "service": set(), "listener": set(), "userdb": set()}
    stack = []
    for line in out.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("{"):
            stack.append(line.split()[0])
        elif line == "}":
            stack.pop()
        else:
            key = line.split(" = ", 1)[0]
            kind = stack[-1] if stack else "global"
            if kind.endswith("_listener"):
                kind = "listener"
            if kind == "protocol":
                kind = "global"
            if kind in blocks:
                blocks[kind].add(key)
    return blocks


def test_loft_conf_lists_every_setting(inst):
    text = render("loft.conf.5", width=200).stdout
    parts = sections(text)
    where = {"global": "GLOBAL SETTINGS", "service": "SERVICES",
             "listener": "LISTENERS", "userdb": "USERDB"}
    blocks = settings_by_block(inst)
    assert len(blocks["global"]) > 50 and blocks["service"] and blocks["userdb"]
    assert {"address", "port", "path", "mode"} <= blocks["listener"]
    for kind, names in blocks.items():
        body = parts[where[kind]]
        for name in names:
            assert re.search(rf"^\s+{name} \((.+); default: (.+)\)$", body, re.M), \
                f"{name} missing from loft.conf(5) {where[kind]}"
    body = parts["GLOBAL SETTINGS"]
    # type and default as loftd -a shows them
    assert re.search(r"^\s+lmtp_max_message_size \(size; default: 50M\)$", body, re.M)
    assert re.search(r"^\s+mail_fsync \(one of optimized, always, never; default: optimized\)$",
                     body, re.M)
    assert re.search(r'^\s+log_timestamp \(string; default: "%Y-%m-%d %H:%M:%S "\)$', body, re.M)
    assert re.search(r"^\s+hostname \(string; default: empty\)$", body, re.M)


def test_loftadm_see_also_is_fixed():
    with open(page("loftadm.1")) as f:
        see_also = f.read().split(".SH SEE ALSO", 1)[1]
    assert ".BR loftd (8)" in see_also and ".BR loft.conf (5)" in see_also
    assert ".BR loft\\-lda (1)" in see_also
