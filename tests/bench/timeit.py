#!/usr/bin/env python3
"""Time shell commands: one warm-up, then N runs each; print a Markdown table with the median
and best wall time, the median CPU time (user + system of the command and its children) and
the peak resident memory of the command's process (one more run under GNU time, so the timed
runs carry no extra process; for a `bash -c` wrapper that is the shell's, not its children's),
and the wall-time ratios of the pairs named in RATIOS ("2/1,4/3": row 2 over row 1, ...;
default "2/1"). With ROWS set (rows each command processes), also the median wall time per
million rows."""
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

runs = int(sys.argv[1])
cases = [arg.split("|", 1) for arg in sys.argv[2:]]


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (r.ru_utime + r.ru_stime) * 1000


def peak_rss_mb(argv):
    """Peak RSS of one run, as GNU time reports it (KiB). Not Python's own rusage: a child
    forked from Python counts Python's pages until it execs. None without GNU time (Debian's
    `time` package)."""
    if not os.access("/usr/bin/time", os.X_OK):
        return None
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(out.read().strip().splitlines()[-1]) / 1024


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
    results.append((label, statistics.median(walls), min(walls), statistics.median(cpus), peak_rss_mb(argv)))

millions = int(os.environ["ROWS"]) / 1e6 if os.environ.get("ROWS") else None
per_million = " ms per 1M rows |" if millions else ""
print(f"| command | median wall ms | best wall ms | median CPU ms | peak RSS MB |{per_million}  ({runs} runs each)")
print("|---|---:|---:|---:|---:|" + ("---:|" if millions else ""))
for label, median, best, cpu, rss in results:
    rss = "n/a" if rss is None else f"{rss:.1f}"
    rate = f" {median / millions:.1f} |" if millions else ""
    print(f"| {label} | {median:.1f} | {best:.1f} | {cpu:.1f} | {rss} |{rate}")
print()
for pair in filter(None, os.environ.get("RATIOS", "2/1").split(",")):
    a, b = (int(x) - 1 for x in pair.split("/"))
    ratio = results[a][1] / results[b][1]
    print(f"{results[a][0]} / {results[b][0]} = {ratio:.2f}x wall, {results[a][3] / results[b][3]:.2f}x CPU")
