"""Release hardening of the programs (they run as root): every program in
$LOFT_BIN is a PIE, fully RELRO (BIND_NOW), with a non-executable stack
and stack protector; outside sanitizer builds, also _FORTIFY_SOURCE (its
__*_chk functions are linked). Checked with readelf, as hardening-check
does."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import BIN, binary

# every program the build made, so a new one (loft-auth, loft-sieve-test)
# is checked without being named here; the six older ones must be there
PROGRAMS = sorted(name for name in os.listdir(BIN)
                  if os.path.isfile(os.path.join(BIN, name)) and
                  os.access(os.path.join(BIN, name), os.X_OK))
assert {"loftd", "loft-lmtp", "loft-stats", "loft-log", "loft-lda", "loftadm"} <= set(PROGRAMS), \
    PROGRAMS

pytestmark = pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf")


def readelf(*args):
    return subprocess.run(["readelf", "-W"] + list(args), capture_output=True, text=True,
                          check=True).stdout


def dynamic_symbols(path):
    return set(re.findall(r"\sUND\s+([A-Za-z0-9_.]+)", readelf("--dyn-syms", path)))


def is_sanitizer_build(path):
    return any(s.startswith("__asan_") or s.startswith("__ubsan_") for s in dynamic_symbols(path)) or \
        "libasan" in readelf("-d", path)


@pytest.mark.parametrize("name", PROGRAMS)
def test_pie_relro_bind_now_noexecstack(name):
    path = binary(name)
    header = readelf("-h", path)
    assert re.search(r"Type:\s+DYN", header), f"{name} is not a PIE:\n{header}"
    dyn = readelf("-d", path)
    assert re.search(r"\(FLAGS_1\).*\bPIE\b", dyn), f"{name}: no PIE flag:\n{dyn}"
    assert re.search(r"\(FLAGS\).*\bBIND_NOW\b", dyn) or re.search(r"\(FLAGS_1\).*\bNOW\b", dyn), \
        f"{name}: no BIND_NOW (full RELRO):\n{dyn}"
    segments = readelf("-l", path)
    assert "GNU_RELRO" in segments, f"{name}: no GNU_RELRO"
    stack = re.search(r"GNU_STACK(?:\s+\S+){5}\s+(\S+)", segments)
    assert stack and "E" not in stack.group(1), f"{name}: executable stack:\n{segments}"


@pytest.mark.parametrize("name", PROGRAMS)
def test_stack_protector_and_fortify(name):
    path = binary(name)
    syms = dynamic_symbols(path)
    assert "__stack_chk_fail" in syms, f"{name}: not built with -fstack-protector-strong"
    if is_sanitizer_build(path):
        pytest.skip("sanitizer build: _FORTIFY_SOURCE is left off")
    fortified = sorted(s for s in syms if re.match(r"__\w+_chk$", s) and s != "__stack_chk_fail")
    assert fortified, f"{name}: no __*_chk function linked: not built with _FORTIFY_SOURCE"
