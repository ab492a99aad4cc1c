"""loft_userdb_lookup_duration_seconds{driver,result} through a real
loftd: a passwd-file userdb that finds one user, does not know another
and fails for a domain whose file is missing; every driver and result
series is there from the start."""
import os
import shutil
import smtplib
import tempfile

from conftest import SAMPLE, Instance, needs_root, wait_for
from test_stats import StatsDaemon

pytestmark = needs_root

DRIVERS = ["passwd-file", "passwd", "static", "sql", "auth"]
RESULTS = ["found", "unknown_user", "tempfail"]


def test_lookups_by_driver_and_result():
    root = tempfile.mkdtemp(prefix="loft-userdb-metrics-")
    os.chmod(root, 0o755)
    inst = Instance(root)
    inst.add_user("alice@example.com")
    os.rename(inst.passwd, os.path.join(root, "example.com.passwd"))
    inst.userdb = f"""
        userdb {{
          driver = passwd-file
          args = {root}/%d.passwd
        }}"""
    d = StatsDaemon(inst)
    d.start()
    try:
        name = "loft_userdb_lookup_duration_seconds_count"
        for drv in DRIVERS:
            for res in RESULTS:
                assert d.metric(name, driver=drv, result=res) == 0, (drv, res)
        with smtplib.LMTP("127.0.0.1", d.port, timeout=30) as c:
            c.ehlo("client.example")
            c.mail("sender@example.org")
            assert c.rcpt("alice@example.com")[0] == 250
            assert c.rcpt("bob@example.com")[0] == 550
            assert c.rcpt("carol@broken.example")[0] == 451
            assert c.data(SAMPLE)[0] == 250
        want = {"found": 1, "unknown_user": 1, "tempfail": 1}
        assert wait_for(lambda: all(
            d.metric(name, driver="passwd-file", result=r) == n
            for r, n in want.items())), d.get("/metrics")[2]
        for drv in DRIVERS[1:]:
            for res in RESULTS:
                assert d.metric(name, driver=drv, result=res) == 0
        assert d.metric("loft_userdb_lookup_duration_seconds_bucket",
                        driver="passwd-file", result="found", le="+Inf") == 1
    finally:
        d.stop()
        shutil.rmtree(root, ignore_errors=True)
