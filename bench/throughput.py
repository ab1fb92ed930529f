"""Start-chat and send-message throughput over HTTP on loopback.

The plugin runs as in production: gunicorn with threads, one worker per CPU, PostgreSQL and
Redis (rate limits raised out of the way). ``wrk`` drives it when installed (``apt-get install
wrk``), else a Python load generator with threads and keep-alive connections. The baseline is
the host shop's own home page on the same server: the cost of the framework alone.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench.data import bulk_tickets
from bench.env import ORIGIN, SERVER_CONFIG, Environment
from bench.relay import percentile
from tests.appserver import AppServer

SEND_TICKETS = 200  # customers sending at once, one ticket each
WARM_UP_SECONDS = 0.5  # of each request, before measuring (every worker and thread ready)
START_CHAT = {"name": "Zoe Customer", "email": "zoe@example.com", "subject": "Sizes",
              "message": "Do you have this shirt in M?"}

LUA = """
local tokens = {%(tokens)s}
local n = 0
request = function()
  n = n + 1
  local headers = {["Content-Type"] = "application/json", ["Origin"] = "%(origin)s"}
  if %(send)s then
    headers["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]
    return wrk.format("POST", "%(path)s", headers, '{"body": "Message ' .. n .. '"}')
  end
  return wrk.format("POST", "%(path)s", headers, '%(body)s')
end
"""

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s)", text).groups()
    return round(float(number) * UNITS[unit], 2)


def run_wrk(url: str, path: str, *, seconds: float, connections: int, script: str | None
            ) -> dict:
    """``wrk`` against ``url + path`` (a Lua ``script`` makes the requests, if given)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    with tempfile.TemporaryDirectory() as folder:
        if script:
            lua = Path(folder) / "load.lua"
            lua.write_text(script)
            command += ["-s", str(lua)]
        output = subprocess.run(command + [url + path], capture_output=True, text=True,
                                check=True, timeout=seconds + 30).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    return {
        "tool": "wrk",
        "requests_per_s": float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)),
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "errors": int(errors.group(1)) if errors else 0,
    }


def run_threads(url: str, make_request, *, seconds: float, connections: int) -> dict:
    """The Python load generator: ``connections`` threads, each on a keep-alive connection,
    sending ``make_request(n) -> (method, path, body, headers)`` until time is up."""
    port = int(url.rsplit(":", 1)[1])
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + seconds

    def worker(offset: int):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = offset
        mine, failed = [], 0
        while time.monotonic() < deadline:
            method, path, body, headers = make_request(n)
            n += connections
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            failed += response.status >= 400
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "tool": "python threads",
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "errors": errors[0],
    }


def run(env: Environment, *, seconds: float, connections: int, logs, tool: str = "auto"
        ) -> dict:
    """Requests per second of the home page (baseline), Start chat and send message."""
    use_wrk = tool == "wrk" or (tool == "auto" and shutil.which("wrk"))
    shop = env.shop()
    first, last = bulk_tickets(shop, SEND_TICKETS, 1, status="open")
    tokens = shop.tokens(range(first, last + 1))
    env.flush_redis()
    server = AppServer(shop.database_url, env.redis.url, workers=os.cpu_count() or 1,
                       threads=8, config=SERVER_CONFIG, log_path=logs / "http.log").start()
    start_path = f"/chat/widget/{shop.public_key}/tickets"
    send_path = "/chat/widget/tickets/messages"
    json_headers = {"Content-Type": "application/json", "Origin": ORIGIN}
    def home(n):
        return "GET", "/", None, {}

    def start(n):
        return "POST", start_path, json.dumps(START_CHAT), json_headers

    def send(n):
        headers = {**json_headers, "Authorization": f"Bearer {tokens[n % len(tokens)]}"}
        return "POST", send_path, json.dumps({"body": f"Message {n}"}), headers

    lua = {"tokens": ", ".join(f'"{t}"' for t in tokens), "origin": ORIGIN,
           "body": json.dumps(START_CHAT)}
    cases = {
        "home_page_baseline": (home, "/", None),
        "start_chat": (start, start_path, LUA % {**lua, "send": "false", "path": start_path}),
        "send_message": (send, send_path, LUA % {**lua, "send": "true", "path": send_path}),
    }
    results = {}
    try:
        for name, (make, path, script) in cases.items():
            run_threads(server.url, make, seconds=min(WARM_UP_SECONDS, seconds),
                        connections=connections)
            if use_wrk:
                results[name] = run_wrk(server.url, path, seconds=seconds,
                                        connections=connections, script=script)
            else:
                results[name] = run_threads(server.url, make, seconds=seconds,
                                            connections=connections)
    finally:
        server.stop()
    base = results["home_page_baseline"]["requests_per_s"]
    for name in ("start_chat", "send_message"):
        results[name]["ratio_to_baseline"] = round(results[name]["requests_per_s"] / base, 3)
    return {"workers": os.cpu_count() or 1, "threads": 8, "connections": connections,
            "seconds": seconds, **results}
