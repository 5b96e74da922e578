#!/usr/bin/env python3
"""Round-trip latency of `dbconsultant mcp` tool calls over the stdio transport.

For each database given (NAME=URL), starts the server, initializes, warms up, then times
N calls of run_query (a simple keyed SELECT) and N of describe_table, one at a time, with
a minimal JSON-RPC client (the time is the server and the transport, not a client library).
With --official it also times the same calls through the official `mcp` ClientSession.
Prints a table of p50 / p95 / p99 / max in milliseconds.

Usage: mcp_latency.py BINARY STORE N NAME=URL [NAME=URL ...] [--official]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from typing import Any

CALLS = {
    "run_query": {"sql": "SELECT id, status, total FROM orders WHERE id = 3"},
    "describe_table": {"table": "orders"},
}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * p))]


def raw_client(binary: str, store: str, url: str, n: int) -> dict[str, list[float]]:
    proc = subprocess.Popen([binary, "--store", store, "mcp", "--db", url, "--calls-per-minute", "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
    assert proc.stdin and proc.stdout
    out = proc.stdout
    ids = iter(range(1, 10**9))

    def request(method: str, params: dict[str, Any]) -> dict[str, Any]:
        i = next(ids)
        assert proc.stdin
        proc.stdin.write((json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n").encode())
        while True:
            msg = json.loads(out.readline())
            if msg.get("id") == i:
                return msg

    request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}})
    proc.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    times: dict[str, list[float]] = {}
    for tool, args in CALLS.items():
        for _ in range(20):  # warm-up: connection, caches
            request("tools/call", {"name": tool, "arguments": args})
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            reply = request("tools/call", {"name": tool, "arguments": args})
            samples.append((time.perf_counter() - t0) * 1000)
            assert not reply["result"].get("isError"), reply
        times[tool] = samples
    proc.stdin.close()
    proc.wait(timeout=10)
    return times


async def official_client(binary: str, store: str, url: str, n: int) -> dict[str, list[float]]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=binary, args=["--store", store, "mcp", "--db", url, "--calls-per-minute", "0"])
    times: dict[str, list[float]] = {}
    async with stdio_client(params) as (r, w):
        async with ClientSession(r, w) as s:
            await s.initialize()
            for tool, args in CALLS.items():
                for _ in range(20):
                    await s.call_tool(tool, args)
                samples = []
                for _ in range(n):
                    t0 = time.perf_counter()
                    result = await s.call_tool(tool, args)
                    samples.append((time.perf_counter() - t0) * 1000)
                    assert not result.is_error
                times[tool] = samples
    return times


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    official = "--official" in sys.argv
    binary, store, n = args[0], args[1], int(args[2])
    rows = []
    for spec in args[3:]:
        name, url = spec.split("=", 1)
        clients = [("raw JSON-RPC", raw_client(binary, store, url, n))]
        if official:
            clients.append(("python mcp", asyncio.run(official_client(binary, store, url, n))))
        for client, times in clients:
            for tool, samples in times.items():
                rows.append((name, client, tool, len(samples), statistics.median(samples), percentile(samples, 0.95), percentile(samples, 0.99), max(samples)))
    print(f"| database | client | tool | calls | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.2f} | {r[5]:.2f} | {r[6]:.2f} | {r[7]:.2f} |")


if __name__ == "__main__":
    main()
