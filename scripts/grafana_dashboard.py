#!/usr/bin/env python3
"""Writes jobs/grafana-dashboard.json (the drift-worker Grafana dashboard) from the panel list below, or with
--check verifies that the committed file is what this script writes, that it is a well-formed dashboard
(unique panel ids, every panel with a datasource, a type and queries, grid positions inside 24 columns) and that
every metric its queries use is one the README's *Metrics, health and logs* section documents.

    python3 scripts/grafana_dashboard.py          # regenerate
    python3 scripts/grafana_dashboard.py --check  # part of make test
"""
import json
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "jobs", "grafana-dashboard.json")
DS = {"type": "prometheus", "uid": "${datasource}"}
SEL = 'monitor=~"$monitor"'
FSEL = 'monitor=~"$monitor", feature=~"$feature"'

# (title, type, width, height, unit, [(expr, legend)], extra field config). extra: "thresholds" (steps), "stack",
# "drifted_map" (0 ok / 1 DRIFT), "value_map" ((text of 0, text of 1): green / vermillion), "min"/"max" (axis),
# "dashed_refs" (query refIds drawn dashed)
ROWS = [
    ("Drift", [
        ("PSI per feature (newest window)", "timeseries", 12, 9, "none",
         [(f"max by (monitor, feature) (drift_feature_psi{{{FSEL}}})", "{{monitor}} {{feature}}")],
         {"thresholds": [0.1, 0.2]}),
        ("KS statistic per feature (numeric)", "timeseries", 12, 9, "none",
         [(f"max by (monitor, feature) (drift_feature_ks_statistic{{{FSEL}}})", "{{monitor}} {{feature}}")], {}),
        ("Drifted features", "state-timeline", 12, 9, "none",
         [(f"max by (feature) (drift_feature_drifted{{{FSEL}}})", "{{feature}}")], {"drifted_map": True}),
        ("Monitor verdict (newest window)", "stat", 6, 9, "none",
         [(f"max by (monitor) (drift_monitor_drifted{{{SEL}}})", "{{monitor}}")], {"drifted_map": True}),
        ("Checks per hour by result", "timeseries", 6, 9, "none",
         [(f"sum by (result) (increase(drift_checks_total{{{SEL}}}[1h]))", "{{result}}")], {"stack": True}),
    ]),
    ("Model performance", [
        ("Model performance by metric (realized solid, estimated dashed)", "timeseries", 12, 9, "none",
         [(f'max by (monitor, metric, kind) (drift_model_performance{{{SEL}, kind="realized"}})', "{{monitor}} {{metric}} realized"),
          (f'max by (monitor, metric, kind) (drift_model_performance{{{SEL}, kind="estimated"}})', "{{monitor}} {{metric}} estimated")],
         {"dashed_refs": ["B"]}),
        ("Label coverage (labels / predictions)", "timeseries", 6, 9, "percentunit",
         [(f"max by (monitor) (drift_label_coverage_ratio{{{SEL}}})", "{{monitor}}")], {"min": 0, "max": 1}),
        ("Performance dropped (newest scored window)", "stat", 6, 9, "none",
         [(f"max by (monitor) (drift_performance_dropped{{{SEL}}})", "{{monitor}}")], {"value_map": ("ok", "DROPPED")}),
    ]),
    ("Pipeline", [
        ("Window lag", "timeseries", 8, 8, "s",
         [(f"time() - max by (monitor) (drift_last_window_end_timestamp_seconds{{{SEL}}})", "{{monitor}}")], {}),
        ("Queue depth", "timeseries", 8, 8, "none",
         [("max by (kind, state) (drift_queue_tasks)", "{{kind}} {{state}}")], {"stack": True}),
        ("Check duration p50 / p95", "timeseries", 8, 8, "s",
         [("histogram_quantile(0.5, sum by (le) (rate(drift_task_duration_seconds_bucket[5m])))", "p50"),
          ("histogram_quantile(0.95, sum by (le) (rate(drift_task_duration_seconds_bucket[5m])))", "p95")], {}),
        ("Check errors", "timeseries", 8, 8, "ops",
         [(f"sum by (monitor) (rate(drift_check_errors_total{{{SEL}}}[5m]))", "{{monitor}}")], {}),
        ("Batch jobs: time since last success", "stat", 8, 8, "s",
         [("time() - max by (job) (drift_job_last_success_timestamp_seconds)", "{{job}}")], {}),
        ("Stored-state reads up", "stat", 8, 8, "none",
         [("min(drift_stored_metrics_up)", "up")], {}),
    ]),
    ("Ingest and triggers", [
        ("Captured events per second", "timeseries", 12, 8, "ops",
         [("sum by (model, format, result) (rate(drift_capture_events_total[5m]))", "{{model}} {{format}} {{result}}")], {}),
        ("Actions fired per hour", "timeseries", 12, 8, "none",
         [(f"sum by (monitor, action) (increase(drift_actions_fired_total{{{SEL}}}[1h]))", "{{monitor}} {{action}}")], {}),
        ("Trigger outbox by state", "timeseries", 12, 8, "none",
         [("max by (action, state) (drift_trigger_outbox_actions)", "{{action}} {{state}}")], {"stack": True}),
        ("Dead triggers (need a person)", "stat", 12, 8, "none",
         [('sum(max by (action) (drift_trigger_outbox_actions{state="dead"})) or vector(0)', "dead")],
         {"thresholds": [1]}),
        ("Trigger deliveries per hour by result", "timeseries", 12, 8, "none",
         [("sum by (action, result) (increase(drift_trigger_deliveries_total[1h]))", "{{action}} {{result}}")], {"stack": True}),
        ("Shadow evaluations by verdict", "timeseries", 12, 8, "none",
         [(f"sum by (monitor, verdict) (increase(drift_shadow_evaluations_total{{{SEL}}}[1d]))", "{{monitor}} {{verdict}}")], {"stack": True}),
    ]),
    ("Process", [
        ("Resident memory", "timeseries", 8, 7, "bytes",
         [("max by (instance) (process_resident_memory_bytes)", "{{instance}}")], {}),
        ("CPU", "timeseries", 8, 7, "percentunit",
         [("sum by (instance) (rate(process_cpu_seconds_total[5m]))", "{{instance}}")], {}),
        ("HTTP requests by route", "timeseries", 8, 7, "reqps",
         [("sum by (http_route, http_response_status_code) (rate(hb_requests_total[5m]))", "{{http_route}} {{http_response_status_code}}")], {}),
    ]),
]


def panel(pid, title, kind, w, h, x, y, unit, queries, extra):
    # Okabe–Ito colours: distinguishable with the common colour-vision deficiencies
    steps = [{"color": "#009E73", "value": None}]
    for i, t in enumerate(extra.get("thresholds", [])):
        steps.append({"color": ["#E69F00", "#D55E00"][min(i, 1)] if len(extra["thresholds"]) > 1 else "#D55E00", "value": t})
    defaults = {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}}
    if extra.get("drifted_map") or extra.get("value_map"):
        ok, bad = extra.get("value_map", ("ok", "DRIFT"))
        defaults["mappings"] = [{"type": "value", "options": {
            "0": {"text": ok, "color": "#009E73"}, "1": {"text": bad, "color": "#D55E00"}}}]
        defaults["color"] = {"mode": "thresholds"}
        defaults["thresholds"] = {"mode": "absolute", "steps": [{"color": "#009E73", "value": None}, {"color": "#D55E00", "value": 1}]}
    custom = {}
    if kind == "timeseries":
        custom = {"drawStyle": "line", "lineWidth": 2, "fillOpacity": 10, "showPoints": "never",
                  "stacking": {"mode": "normal" if extra.get("stack") else "none", "group": "A"}}
        if extra.get("thresholds"):
            custom["thresholdsStyle"] = {"mode": "dashed"}
    defaults["custom"] = custom
    for bound in ("min", "max"):
        if bound in extra:
            defaults[bound] = extra[bound]
    # a second cue besides colour: these queries' series are drawn dashed
    overrides = [{"matcher": {"id": "byFrameRefID", "options": ref},
                  "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}}]}
                 for ref in extra.get("dashed_refs", [])]
    p = {"id": pid, "type": kind, "title": title, "datasource": DS, "gridPos": {"h": h, "w": w, "x": x, "y": y},
         "fieldConfig": {"defaults": defaults, "overrides": overrides},
         "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
         "targets": [{"datasource": DS, "expr": e, "legendFormat": l, "refId": chr(65 + i)} for i, (e, l) in enumerate(queries)]}
    if kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}, "colorMode": "background",
                        "graphMode": "none", "textMode": "value_and_name"}
    return p


def dashboard():
    panels, pid, y = [], 1, 0
    for row_title, items in ROWS:
        panels.append({"id": pid, "type": "row", "title": row_title, "collapsed": False,
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
        pid += 1
        y += 1
        x, row_h = 0, 0
        for title, kind, w, h, unit, queries, extra in items:
            if x + w > 24:
                x, y = 0, y + row_h
                row_h = 0
            panels.append(panel(pid, title, kind, w, h, x, y, unit, queries, extra))
            pid += 1
            x += w
            row_h = max(row_h, h)
        y += row_h
    variables = [
        {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus", "current": {}, "hide": 0},
        {"name": "monitor", "label": "Monitor", "type": "query", "datasource": DS, "query": {"query": "label_values(drift_feature_psi, monitor)", "refId": "monitor"},
         "definition": "label_values(drift_feature_psi, monitor)", "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2, "current": {}, "hide": 0},
        {"name": "feature", "label": "Feature", "type": "query", "datasource": DS,
         "query": {"query": 'label_values(drift_feature_psi{monitor=~"$monitor"}, feature)', "refId": "feature"},
         "definition": 'label_values(drift_feature_psi{monitor=~"$monitor"}, feature)', "includeAll": True, "multi": True,
         "allValue": ".*", "refresh": 2, "current": {}, "hide": 0},
    ]
    return {"__inputs": [], "title": "drift-worker", "uid": "drift-worker", "tags": ["drift", "mlops"], "timezone": "utc",
            "editable": True, "graphTooltip": 1, "refresh": "1m", "schemaVersion": 39, "version": 1,
            "time": {"from": "now-3d", "to": "now"}, "timepicker": {},
            "annotations": {"list": [{"builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
                                      "hide": True, "name": "Annotations & Alerts", "type": "dashboard"}]},
            "templating": {"list": variables}, "panels": panels, "links": []}


def documented_metrics():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    section = text.split("## Metrics, health and logs", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`((?:drift|process|http|hb)_[a-z_]+)`", section))


def check(text):
    problems = []
    d = json.loads(text)
    known = documented_metrics()
    ids = [p["id"] for p in d["panels"]]
    if len(ids) != len(set(ids)):
        problems.append("panel ids are not unique")
    for p in d["panels"]:
        g = p["gridPos"]
        if g["x"] < 0 or g["x"] + g["w"] > 24:
            problems.append(f"panel {p['title']!r} is outside the 24-column grid")
        if p["type"] == "row":
            continue
        if not p.get("targets") or not p.get("datasource"):
            problems.append(f"panel {p['title']!r} has no queries or no datasource")
        for t in p.get("targets", []):
            expr = re.sub(r"\{[^}]*\}|\bby \([^)]*\)", "", t["expr"])  # label names are not metrics
            for name in re.findall(r"\b((?:drift|process|http|hb)_[a-z_]+)", expr):
                base = re.sub(r"_(bucket|sum|count)$", "", name)
                if name not in known and base not in known:
                    problems.append(f"panel {p['title']!r} uses {name}, which the README does not document")
    return problems


def main():
    text = json.dumps(dashboard(), indent=2) + "\n"
    if "--check" in sys.argv:
        with open(OUT) as f:
            committed = f.read()
        problems = check(committed)
        if committed != text:
            problems.append("jobs/grafana-dashboard.json differs from what scripts/grafana_dashboard.py writes; run it")
        for p in problems:
            print(f"grafana-dashboard: {p}", file=sys.stderr)
        if problems:
            sys.exit(1)
        n = sum(1 for p in json.loads(committed)["panels"] if p["type"] != "row")
        print(f"grafana-dashboard: {n} panels valid, every metric documented")
        return
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
