#!/usr/bin/env python3
"""Shadow traffic of the sample fraud scorer: the champion (v3) and two candidate models served in shadow
(v4, a good retrain, and v5, a bad one) answering the same requests, 2026-11-25 16:00-18:00 UTC, as a KServe
logger captures them: structured CloudEvents (Open Inference Protocol), one JSON line each, request and response
events per service. The champion is `fraud`, the shadows are `fraud-shadow` (the monitor's capture role rule makes
them challengers); every event carries the `modelversion` extension and the request id is the CloudEvent id.

- v4: the champion's score times (1 + N(0, 0.02)): agrees, same distribution, latency +5 %.
- v5: an undertrained model: its scores scatter around 0.15, latency +60 %, 3 % of its requests unanswered.

    python3 sample-data/generate_shadow.py      # writes sample-data/shadow/shadow-traffic.jsonl.gz
"""
import gzip
import io
import json
import os
from datetime import datetime, timedelta, timezone

import numpy as np

from generate_fraud import HERE, draw

START = datetime(2026, 11, 25, 16, tzinfo=timezone.utc)
HOURS = 2
PER_HOUR = 600
NUMERIC = ["amount", "hour_of_day", "distance_from_home_km", "transactions_last_24h", "account_age_days", "avg_amount_30d"]
CATEGORICAL = ["merchant_category", "country", "device_type", "card_present"]


def ms(t):
    """The time as the capture stores it: whole milliseconds."""
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def event(kind, rid, t, service, version, data):
    return {"specversion": "1.0", "type": f"org.kubeflow.serving.inference.{kind}", "id": rid,
            "source": f"http://{service}-predictor.payments.svc/", "time": stamp(t), "datacontenttype": "application/json",
            "inferenceservicename": service, "namespace": "payments", "component": "predictor", "endpoint": "",
            "modelversion": version, "data": data}


def request_body(rid, r):
    amount, hour, merchant, country, device, card, distance, tx24, age, avg30, _ = r
    values = {"amount": float(amount), "hour_of_day": float(hour), "distance_from_home_km": float(distance) if distance != "" else None,
              "transactions_last_24h": float(tx24), "account_age_days": float(age), "avg_amount_30d": float(avg30)}
    inputs = [{"name": k, "shape": [1], "datatype": "FP64", "data": [values[k] if values[k] is not None else float("nan")]}
              for k in NUMERIC if values[k] is not None]
    inputs += [{"name": k, "shape": [1], "datatype": "BYTES", "data": [str(v)]}
               for k, v in zip(CATEGORICAL, [merchant, country, device, card])]
    return {"id": rid, "inputs": inputs}


def response_body(rid, version, score):
    return {"model_name": "fraud", "model_version": version, "id": rid,
            "outputs": [{"name": "score", "shape": [1], "datatype": "FP64", "data": [round(float(score), 5)]}]}


def main():
    rng = np.random.default_rng(20261125)
    path = os.path.join(HERE, "shadow", "shadow-traffic.jsonl.gz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    lines = 0
    # per version: the (champion score, challenger score) pairs and request → response latencies, for expected.json
    seen = {"v3": {}, "v4": {}, "v5": {}}
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz, \
            io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as f:
        for hour in range(HOURS):
            rows = list(draw(PER_HOUR, 20261300 + hour, drift=True))
            for k, r in enumerate(rows):
                rid = f"shadow-{hour + 16:02d}-{k:04d}"
                t = START + timedelta(hours=hour, seconds=k * 3600 / PER_HOUR)
                score = float(r[-1])
                base = rng.lognormal(np.log(0.018), 0.35)  # the champion's latency in seconds
                good = min(1.0, max(0.0, score * (1 + rng.normal(0, 0.02))))
                bad = 1 / (1 + np.exp(-(rng.normal(-1.8, 0.9))))
                out = [event("request", rid, t, "fraud", "v3", request_body(rid, r)),
                       event("response", rid, t + timedelta(seconds=base), "fraud", "v3", response_body(rid, "v3", score)),
                       event("request", rid, t, "fraud-shadow", "v4", request_body(rid, r)),
                       event("response", rid, t + timedelta(seconds=base * rng.normal(1.05, 0.03)), "fraud-shadow", "v4",
                             response_body(rid, "v4", good)),
                       event("request", rid, t, "fraud-shadow", "v5", request_body(rid, r))]
                if rng.random() >= 0.03:
                    out.append(event("response", rid, t + timedelta(seconds=base * rng.normal(1.6, 0.1)), "fraud-shadow", "v5",
                                     response_body(rid, "v5", bad)))
                for e in out:
                    f.write(json.dumps(e, separators=(",", ":")) + "\n")
                    lines += 1
                    v = e["modelversion"]
                    at = datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
                    entry = seen[v].setdefault(rid, {})
                    if e["type"].endswith("request"):
                        entry["req"] = at
                    else:
                        entry["resp"] = at
                        entry["score"] = e["data"]["outputs"][0]["data"][0]
    print(f"wrote {path} ({lines} events)")
    expected(seen)


def expected(seen):
    """What a shadow evaluation of 16:00-18:00 must find, computed with numpy/scipy (tolerance 0.02 on the score)."""
    from scipy import stats
    champ = seen["v3"]
    out = {}
    for v in ["v4", "v5"]:
        chal = seen[v]
        ids = [i for i in champ if "score" in champ[i] and "score" in chal.get(i, {})]
        a = np.array([champ[i]["score"] for i in ids])
        b = np.array([chal[i]["score"] for i in ids])
        lat = lambda d: np.array([(d[i]["resp"] - d[i]["req"]).total_seconds() * 1000 for i in d if "resp" in d[i] and "req" in d[i]])
        lc, lv = lat(champ), lat(chal)
        ks = stats.ks_2samp(a, b)
        out[v] = {
            "pairs": len(ids),
            "agreement": float(np.mean(np.abs(a - b) <= 0.02)),
            "correlation": float(np.corrcoef(a, b)[0, 1]),
            "output_ks": float(ks.statistic), "output_ks_pvalue": float(ks.pvalue),
            "champion_latency_p50_ms": float(np.percentile(lc, 50)), "champion_latency_p95_ms": float(np.percentile(lc, 95)),
            "challenger_latency_p95_ms": float(np.percentile(lv, 95)), "challenger_latency_p99_ms": float(np.percentile(lv, 99)),
            "latency_regression": float(np.percentile(lv, 95) / np.percentile(lc, 95) - 1),
            "error_rate": float(np.mean(["resp" not in chal[i] for i in chal])),
        }
    path = os.path.join(HERE, "shadow", "expected.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
