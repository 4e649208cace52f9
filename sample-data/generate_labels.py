#!/usr/bin/env python3
"""Ground truth for the sample fraud scorer (issue 20's demo story): which transactions really were fraud, known
some hours after they were scored, as chargebacks are.

- fraud/reference_labelled.csv: the training snapshot's scores with their labels (the labelled validation set the
  monitor's `performance.reference_file` fits its baseline on). Labels ~ Bernoulli(score): the model is calibrated.
- fraud/labels.csv.gz: a label per captured request of fraud/traffic.csv.gz (`request_id,label,time`), `time` being
  when the label became known: 4 to 10 hours after the transaction. Before the drift hour (40) labels ~
  Bernoulli(score). From it on the world changed in a way the model does not know: its scores rose (the +0.6 and
  crypto_exchange terms of generate_fraud.py's drift) while true fraud did not follow them, and a new fraud pattern
  (mobile, card not present) appeared that the model does not score — accuracy falls from about 0.96 to 0.82.

    python3 sample-data/generate_labels.py      # reads fraud/reference.csv and fraud/traffic.csv.gz
Fixed seed: the output is the same on every run.
"""
import csv
import gzip
import io
import math
import os
from datetime import datetime, timedelta

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DRIFT_HOUR = 40
START = datetime(2026, 11, 24)


def truth_probability(score, merchant, device, card_present, drifted):
    if not drifted:
        return score
    s = min(max(score, 1e-6), 1 - 1e-6)
    logit = math.log(s / (1 - s)) - 0.6 - (1.2 if merchant == "crypto_exchange" else 0.0)
    if device == "mobile" and card_present == "false":
        logit += 2.5
    return 1 / (1 + math.exp(-logit))


def main():
    rng = np.random.default_rng(20261201)
    with open(os.path.join(HERE, "fraud", "reference.csv"), newline="") as f, \
            open(os.path.join(HERE, "fraud", "reference_labelled.csv"), "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["score", "label"])
        for r in csv.DictReader(f):
            s = float(r["score"])
            w.writerow([r["score"], int(rng.random() < s)])
    path = os.path.join(HERE, "fraud", "labels.csv.gz")
    with gzip.open(os.path.join(HERE, "fraud", "traffic.csv.gz"), "rt", newline="") as f, open(path, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz, \
            io.TextIOWrapper(gz, encoding="utf-8", newline="") as out:
        w = csv.writer(out)
        w.writerow(["request_id", "label", "time"])
        for r in csv.DictReader(f):
            t = datetime.strptime(r["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
            hour = int((t - START).total_seconds() // 3600)
            p = truth_probability(float(r["score"]), r["merchant_category"], r["device_type"], r["card_present"], hour >= DRIFT_HOUR)
            label = int(rng.random() < p)
            known = t + timedelta(hours=4 + 6 * rng.random())
            w.writerow([r["request_id"], label, known.strftime("%Y-%m-%dT%H:%M:%S") + "Z"])
    print(f"wrote sample-data/fraud/reference_labelled.csv and {path}")


if __name__ == "__main__":
    main()
