"""The dashboards and alert rules only use metric names loft really
serves, the alert rules load in promtool and pass their unit tests
(dashboards/loft-alerts.test.yml: every alert firing and quiet), and both
are fleet-ready: every Grafana query is filtered by the `instance`
variable, every alert judges one instance at a time and names no job."""
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
METRIC = re.compile(r"\b((?:loft|process)_[a-z_]+)(\{[^}]*\})?")
AGGREGATION = re.compile(r"\b(sum|avg|min|max|count|topk|bottomk|quantile)\s*(by\s*\(([^)]*)\))?\s*\(")


def used_names():
    names = set()
    for f in ("loft-grafana.json", "loft-alerts.yml", "README.md"):
        with open(os.path.join(DASH, f)) as fh:
            names |= {m.group(1) for m in METRIC.finditer(fh.read())}
    return {re.sub(r"_(bucket|sum|count)$", "", n) for n in names}


def grafana():
    with open(os.path.join(DASH, "loft-grafana.json")) as f:
        return json.load(f)


def alert_rules():
    yaml = pytest.importorskip("yaml")
    with open(os.path.join(DASH, "loft-alerts.yml")) as f:
        return [r for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "alert" in r]


def promtool():
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool (Debian package prometheus) not installed")
    return path


def aggregations_keep_instance(expr):
    """Every aggregation in expr is `by (...)` a label list with instance."""
    return all(m.group(2) is not None and "instance" in re.split(r"\s*,\s*", m.group(3).strip())
               for m in AGGREGATION.finditer(expr))


@needs_root
def test_dashboard_metrics_exist(inst):
    d = StatsDaemon(inst)
    try:
        d.start()
        _, _, text = d.get("/metrics")
    finally:
        d.stop()
    served = {m.group(1) for m in re.finditer(r"^# TYPE ((?:loft|process)_[a-z_]+) ", text, re.M)}
    missing = used_names() - served
    assert not missing, f"dashboards use metrics loft does not serve: {missing}"
    grafana()


def test_grafana_queries_follow_the_instance_variable():
    d = grafana()
    variables = {v["name"]: v for v in d["templating"]["list"]}
    assert "instance" in variables, variables.keys()
    assert "label_values(" in json.dumps(variables["instance"]["query"])
    assert variables["instance"]["includeAll"] and variables["instance"]["multi"]
    targets = [(p["title"], t["expr"]) for p in d["panels"] for t in p["targets"]]
    assert targets
    for title, expr in targets:
        for m in METRIC.finditer(expr):
            assert m.group(2) and 'instance=~"$instance"' in m.group(2), (title, expr)
        # hosts are never added up into one line
        assert aggregations_keep_instance(expr), (title, expr)


def test_alerts_judge_each_instance():
    rules = alert_rules()
    assert rules
    for rule in rules:
        expr = rule["expr"]
        assert not re.search(r"\bjob\b", expr), (rule["alert"], expr)
        assert aggregations_keep_instance(expr), (rule["alert"], expr)
        assert "instance" in " ".join(rule["annotations"].values()), rule["alert"]


def test_alert_rules_load():
    r = subprocess.run([promtool(), "check", "rules", os.path.join(DASH, "loft-alerts.yml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_alert_rules_unit_tests():
    r = subprocess.run([promtool(), "test", "rules", "loft-alerts.test.yml"],
                       cwd=DASH, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_alert_has_firing_and_quiet_cases():
    yaml = pytest.importorskip("yaml")
    with open(os.path.join(DASH, "loft-alerts.test.yml")) as f:
        tests = yaml.safe_load(f)["tests"]
    firing, quiet = set(), set()
    for t in tests:
        for case in t.get("alert_rule_test", []):
            (firing if case.get("exp_alerts") else quiet).add(case["alertname"])
    names = {r["alert"] for r in alert_rules()}
    assert names - firing == set(), "alerts never tested firing"
    assert names - quiet == set(), "alerts never tested quiet"
