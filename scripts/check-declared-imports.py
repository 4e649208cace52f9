#!/usr/bin/env python3
"""`make lint`: every module a target imports is declared in its Package.swift dependencies.

SwiftPM on Linux lets a target import any module built before it (a dependency's dependency), so an undeclared import
builds today and breaks when the graph changes. Reads `swift package dump-package` and each target's sources.
"""
import glob
import json
import re
import subprocess
import sys

# modules of the toolchain, not of the package graph
TOOLCHAIN = {"Foundation", "FoundationEssentials", "FoundationNetworking", "Testing", "XCTest", "Dispatch", "Glibc",
             "Musl", "Darwin", "Synchronization", "_Concurrency"}

package = json.loads(subprocess.check_output(["swift", "package", "dump-package"], text=True))
problems = []
for target in package["targets"]:
    name = target["name"]
    if target["type"] == "system":
        continue
    path = target.get("path") or (("Tests/" if target["type"] == "test" else "Sources/") + name)
    declared = {dep[0] for d in target["dependencies"] for dep in d.values()}
    declared |= {d.replace("-", "_") for d in declared}
    for source in sorted(glob.glob(path + "/**/*.swift", recursive=True)):
        for number, line in enumerate(open(source, encoding="utf-8"), 1):
            m = re.match(r"\s*(?:@testable |@_implementationOnly |(?:public|internal|package) )?import (?:(?:struct|enum|class|func|protocol) )?([A-Za-z_]\w*)", line)
            if m and m.group(1) not in declared | TOOLCHAIN and m.group(1) != name.replace("-", "_"):
                problems.append(f"{source}:{number}: {name} imports {m.group(1)}, which Package.swift does not declare for it")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
