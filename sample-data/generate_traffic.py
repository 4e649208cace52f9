#!/usr/bin/env python3
"""Captured traffic of the sample fraud scorer: 72 hourly windows from 2026-11-24T00:00Z, 2,000 events an
hour, with drift from hour 40 (2026-11-25T16:00Z) on: the `current_drift` process of generate_fraud.py
(amount ×1.6 + 15, a new merchant category `crypto_exchange`, a higher score). Before that hour, the
training process. Hour 70 has only 120 events (an outage), so it is recorded as insufficient data.

    python3 sample-data/generate_traffic.py      # writes sample-data/fraud/traffic.csv.gz
"""
import csv
import gzip
import io
import os
from datetime import datetime, timedelta, timezone

from generate_fraud import HERE, draw

START = datetime(2026, 11, 24, tzinfo=timezone.utc)
DRIFT_HOUR = 40
HOURS = 72
PER_HOUR = 2000
OUTAGE_HOUR, OUTAGE_EVENTS = 70, 120


def main():
    path = os.path.join(HERE, "fraud", "traffic.csv.gz")
    # mtime=0 and no file name in the header: the same bytes on every run
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz, \
            io.TextIOWrapper(gz, encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["timestamp", "request_id", "model_version", "amount", "hour_of_day", "merchant_category", "country",
                    "device_type", "card_present", "distance_from_home_km", "transactions_last_24h", "account_age_days",
                    "avg_amount_30d", "score"])
        for hour in range(HOURS):
            n = OUTAGE_EVENTS if hour == OUTAGE_HOUR else PER_HOUR
            rows = list(draw(n, 20261200 + hour, drift=hour >= DRIFT_HOUR))
            for k, r in enumerate(rows):
                t = START + timedelta(hours=hour, seconds=k * 3600 / n)
                w.writerow([t.strftime("%Y-%m-%dT%H:%M:%S") + "Z", f"req-{hour:02d}-{k:04d}", "v3", *r])
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
