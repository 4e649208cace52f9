#!/usr/bin/env python3
"""Sample data for a card-fraud scorer: a training snapshot and two current windows.

    python3 sample-data/generate_fraud.py

Writes fraud/reference.csv (the training snapshot), fraud/current_no_drift.csv (same
process, new draw) and fraud/current_drift.csv (drift injected in named features; see
sample-data/README.md). Fixed seeds: the output is the same on every run.
"""
import csv
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MERCHANTS = ["grocery", "restaurants", "fuel", "online_retail", "electronics", "travel", "pharmacy", "entertainment"]
MERCHANT_P = [0.26, 0.18, 0.12, 0.17, 0.07, 0.05, 0.08, 0.07]
COUNTRIES = ["DE", "FR", "NL", "ES", "IT", "US", "GB"]
COUNTRY_P = [0.34, 0.18, 0.12, 0.11, 0.1, 0.08, 0.07]
DEVICES = ["pos", "mobile", "web"]


def draw(n, seed, drift=False):
    rng = np.random.default_rng(seed)
    merchants_p = np.array(MERCHANT_P)
    merchants = list(MERCHANTS)
    if drift:
        # a new merchant category appears and takes 12% of traffic
        merchants.append("crypto_exchange")
        merchants_p = np.append(merchants_p * 0.88, 0.12)
    merchant = rng.choice(merchants, size=n, p=merchants_p)
    amount = rng.lognormal(mean=3.6, sigma=0.9, size=n)
    if drift:
        amount = amount * 1.6 + 15  # basket sizes jump (inflation + new merchant)
    amount = np.round(amount, 2)
    hour = np.clip(np.round(rng.normal(14, 4.5, size=n)), 0, 23).astype(int)
    country = rng.choice(COUNTRIES, size=n, p=COUNTRY_P)
    device = rng.choice(DEVICES, size=n, p=[0.55, 0.3, 0.15])
    card_present = np.where(device == "pos", "true", np.where(rng.random(n) < 0.1, "true", "false"))
    distance = np.round(rng.gamma(1.5, 12.0, size=n), 1)
    tx24 = rng.poisson(3.0, size=n)
    account_age = np.round(rng.uniform(5, 3650, size=n)).astype(int)
    avg30 = np.round(amount * rng.uniform(0.6, 1.4, size=n), 2)
    logit = (-4.2 + 0.012 * (amount - 40) + 0.05 * distance / 10 + 0.25 * (tx24 - 3)
             + 0.9 * (merchant == "electronics") + 0.7 * (device == "web") - 0.0003 * account_age)
    if drift:
        logit = logit + 1.2 * (merchant == "crypto_exchange") + 0.6
    score = np.round(1 / (1 + np.exp(-(logit + rng.normal(0, 0.3, size=n)))), 5)
    # a few missing values, as real captures have
    distance_s = np.where(rng.random(n) < 0.01, "", distance.astype(str))
    rows = zip(amount, hour, merchant, country, device, card_present, distance_s, tx24, account_age, avg30, score)
    return rows


def write(name, rows):
    with open(os.path.join(HERE, "fraud", name), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["amount", "hour_of_day", "merchant_category", "country", "device_type", "card_present",
                    "distance_from_home_km", "transactions_last_24h", "account_age_days", "avg_amount_30d", "score"])
        for r in rows:
            w.writerow(r)


if __name__ == "__main__":
    os.makedirs(os.path.join(HERE, "fraud"), exist_ok=True)
    write("reference.csv", draw(20000, 20261101))
    write("current_no_drift.csv", draw(5000, 20261102))
    write("current_drift.csv", draw(5000, 20261103, drift=True))
    print("wrote sample-data/fraud/{reference,current_no_drift,current_drift}.csv")
