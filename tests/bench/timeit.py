#!/usr/bin/env python3
"""Time shell commands: one warm-up, then N runs each; print a Markdown table with the median
and best wall time and the median CPU time (user + system of the command and its children),
and the wall-time ratios of the pairs named in RATIOS ("2/1,4/3": row 2 over row 1, ...;
default "2/1")."""
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time

runs = int(sys.argv[1])
cases = [arg.split("|", 1) for arg in sys.argv[2:]]


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000


results = []
for label, command in cases:
    argv = shlex.split(command)
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # warm-up
    walls, cpus = [], []
    for _ in range(runs):
        cpu0, start = cpu_ms(), time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append(cpu_ms() - cpu0)
    results.append((label, statistics.median(walls), min(walls), statistics.median(cpus)))

print(f"| command | median wall ms | best wall ms | median CPU ms |  ({runs} runs each)")
print("|---|---:|---:|---:|")
for label, median, best, cpu in results:
    print(f"| {label} | {median:.1f} | {best:.1f} | {cpu:.1f} |")
print()
for pair in filter(None, os.environ.get("RATIOS", "2/1").split(",")):
    a, b = (int(x) - 1 for x in pair.split("/"))
    ratio = results[a][1] / results[b][1]
    print(f"{results[a][0]} / {results[b][0]} = {ratio:.2f}x wall, {results[a][3] / results[b][3]:.2f}x CPU")
