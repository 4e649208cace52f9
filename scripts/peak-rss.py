#!/usr/bin/env python3
"""Runs a command and prints its peak resident set size (the kernel's ru_maxrss for the waited-for child, KiB).

Usage: scripts/peak-rss.py COMMAND [ARGS...]
The command's stdout and stderr pass through; the last line on stderr is `peak_rss_kib=N status=S`, and the exit
status is the command's. Used by the bounded-memory test (Tests/EndToEndTests/BoundedMemoryTests.swift) and
`make bench`.
"""
import os
import sys

if len(sys.argv) < 2:
    sys.exit("usage: peak-rss.py COMMAND [ARGS...]")
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
code = os.waitstatus_to_exitcode(status)
sys.stderr.write(f"peak_rss_kib={usage.ru_maxrss} status={code}\n")
sys.exit(code if code >= 0 else 128 - code)
