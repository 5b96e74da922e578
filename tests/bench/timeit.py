#!/usr/bin/env python3
"""Time shell commands: one warm-up, then N runs each; print a Markdown table with the
median and best wall time, and the ratio of the first two commands (ours vs the peer)."""
import shlex
import statistics
import subprocess
import sys
import time

runs = int(sys.argv[1])
cases = [arg.split("|", 1) for arg in sys.argv[2:]]
results = []
for label, command in cases:
    argv = shlex.split(command)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    results.append((label, statistics.median(times), min(times)))

print(f"| command | median ms | best ms |  ({runs} runs each)")
print("|---|---:|---:|")
for label, median, best in results:
    print(f"| {label} | {median:.1f} | {best:.1f} |")
if len(results) >= 2:
    ratio = results[1][1] / results[0][1]
    print(f"\nsquawk median / dbconsultant median = {ratio:.2f}x "
          f"({'dbconsultant faster' if ratio >= 1 else 'squawk faster'})")

# Extra ratios: RATIOS="2/1,5/2" prints row 2's median over row 1's, row 5's over row 2's.
import os
for pair in filter(None, os.environ.get("RATIOS", "").split(",")):
    a, b = (int(x) - 1 for x in pair.split("/"))
    print(f"{results[a][0]} / {results[b][0]} = {results[a][1] / results[b][1]:.2f}x")
