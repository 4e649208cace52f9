#!/usr/bin/env python3
"""Writes a CSV of at least SIZE_MB megabytes: COLUMNS numeric columns f0..fN of seeded normal values (Python's
random, no numpy needed), a 50,000-row block written again and again. For the bounded-memory test
(Tests/EndToEndTests/BoundedMemoryTests.swift).

Usage: scripts/generate-wide-csv.py OUT SIZE_MB [COLUMNS]
"""
import random
import sys

out_path, size_mb = sys.argv[1], int(sys.argv[2])
columns = int(sys.argv[3]) if len(sys.argv) > 3 else 20
rng = random.Random(18)
rows = [",".join(repr(rng.gauss(0, 1)) for _ in range(columns)) for _ in range(50_000)]
text = "\n".join(rows) + "\n"
with open(out_path, "w") as out:
    out.write(",".join(f"f{j}" for j in range(columns)) + "\n")
    written = 0
    while written < size_mb * 1024 * 1024:
        out.write(text)
        written += len(text)
