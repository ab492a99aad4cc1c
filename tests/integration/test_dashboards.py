"""The dashboards and alert rules only use metric names loft really
serves, and the alert rules load in promtool."""
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import needs_root
from test_stats import StatsDaemon

TOP = os.environ.get("LOFT_SOURCE", os.path.join(os.path.dirname(__file__), "../.."))
DASH = os.path.join(TOP, "dashboards")


def used_names():
    names = set()
    for f in ("loft-grafana.json", "loft-alerts.yml", "README.md"):
        with open(os.path.join(DASH, f)) as fh:
            names |= set(re.findall(r"\bloft_[a-z_]+", fh.read()))
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


@needs_root
def test_dashboard_metrics_exist(inst):
    d = StatsDaemon(inst)
    try:
        d.start()
        _, _, text = d.get("/metrics")
    finally:
        d.stop()
    served = {m.group(1) for m in re.finditer(r"^# TYPE (loft_[a-z_]+) ", text, re.M)}
    missing = used_names() - served
    assert not missing, f"dashboards use metrics loft does not serve: {missing}"
    json.load(open(os.path.join(DASH, "loft-grafana.json")))


def test_alert_rules_load():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed")
    r = subprocess.run([promtool, "check", "rules", os.path.join(DASH, "loft-alerts.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
