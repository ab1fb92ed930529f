"""Relay latency and throughput, and the memory of idle connections.

K conversations, each a customer websocket and an agent websocket, all talking at once; each
customer sends M messages, and the time from the customer's send to the agent's receipt is one
latency sample. Two loads:

- ``burst``: each customer sends its next message as soon as the agent has the previous one
  (the most the server can relay: its throughput, and latency when saturated);
- ``paced``: each customer sends one message every ``pace`` seconds, starting at a random
  moment of the first period (people chatting: K / pace messages a second offered).

The same client (asyncio, ``websockets``) drives the plugin (gunicorn; one process, or two
sharing Redis with each conversation's customer on one and its agent on the other, so every
message crosses processes) and the baseline relays (:mod:`bench.baseline`): the bare one, the
one that commits each message to PostgreSQL before relaying it, as the plugin does, and the one
that stores each message in the plugin's own tables the way the plugin does.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import connect

from bench.data import bulk_tickets
from bench.env import ORIGIN, SERVER_CONFIG, Environment, Shop, psycopg_url
from bench.report import ratio
from responso_chat.conversation.websocket import VISITOR_PROTOCOL
from tests.appserver import ROOT, AppServer
from tests.servers import free_port, wait_for_port

CONNECT_CONCURRENCY = 64  # sockets opening at once
REPLY_TIMEOUT = 30.0  # a message not relayed within this counts as lost


@dataclass
class Conversation:
    """Where a conversation's two sockets connect, and the agent's first frame if any."""

    customer_url: str
    agent_url: str
    customer_headers: dict = field(default_factory=dict)
    agent_headers: dict = field(default_factory=dict)
    subscribe: dict | None = None
    customer_token: str | None = None  # the plugin's visitor token, sent as the subprotocol


def percentile(samples: list[float], fraction: float) -> float:
    """The ``fraction`` percentile of ``samples`` (nearest rank)."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def summarize(latencies: list[float], elapsed: float, lost: int) -> dict:
    """Latency percentiles (ms) and throughput of one run."""
    return {
        "messages": len(latencies),
        "lost": lost,
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies, default=float("nan")) * 1000, 2),
        "messages_per_s": round(len(latencies) / elapsed, 1) if elapsed else None,
    }


async def _open(url: str, headers: dict, token: str | None = None):
    """A client socket; with a visitor ``token``, sent as the widget sends it (subprotocol)."""
    subprotocols = [VISITOR_PROTOCOL, token] if token else None
    return await connect(url, additional_headers=headers, subprotocols=subprotocols,
                         ping_interval=None, open_timeout=60, close_timeout=2, max_queue=None,
                         max_size=2**20)


async def _drain(socket) -> None:
    try:
        async for _frame in socket:
            pass
    except Exception:
        pass


async def _agent_reader(socket, waiting: dict, subscribed: asyncio.Future) -> None:
    try:
        async for frame in socket:
            event = json.loads(frame)
            kind = event.get("type")
            if kind in ("message", "send"):
                future = waiting.pop(event.get("client_msg_id"), None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())
            elif kind == "subscribed" and not subscribed.done():
                subscribed.set_result(True)
    except Exception:
        pass


async def drive(conversations: list[Conversation], messages: int, pace: float | None = None
                ) -> dict:
    """Open every conversation, then let them all talk at once (one message every ``pace``
    seconds each, or back to back); the run's summary."""
    loop = asyncio.get_running_loop()
    waiting: dict[str, asyncio.Future] = {}
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    sockets, readers = [], []

    async def open_conversation(spec: Conversation):
        async with gate:
            agent = await _open(spec.agent_url, spec.agent_headers)
            customer = await _open(spec.customer_url, spec.customer_headers,
                                   spec.customer_token)
        sockets.extend((agent, customer))
        subscribed = loop.create_future()
        readers.append(asyncio.create_task(_agent_reader(agent, waiting, subscribed)))
        readers.append(asyncio.create_task(_drain(customer)))
        if spec.subscribe is None:
            subscribed.set_result(True)
        else:
            await agent.send(json.dumps(spec.subscribe))
        await asyncio.wait_for(subscribed, REPLY_TIMEOUT)
        return customer

    latencies: list[float] = []
    lost = 0

    async def talk(customer, index: int) -> None:
        nonlocal lost
        next_send = time.perf_counter() + (random.uniform(0, pace) if pace else 0.0)
        for number in range(messages):
            await asyncio.sleep(max(0.0, next_send - time.perf_counter()))
            next_send += pace or 0.0
            message_id = f"{index}-{number}-{uuid.uuid4().hex[:8]}"
            future = waiting[message_id] = loop.create_future()
            sent = time.perf_counter()
            await customer.send(json.dumps({
                "type": "send", "body": f"Message {number} of conversation {index}",
                "client_msg_id": message_id,
            }))
            try:
                latencies.append(await asyncio.wait_for(future, REPLY_TIMEOUT) - sent)
            except TimeoutError:
                waiting.pop(message_id, None)
                lost += 1

    try:
        customers = await asyncio.gather(*(open_conversation(c) for c in conversations))
        started = time.perf_counter()
        await asyncio.gather(*(talk(customer, i) for i, customer in enumerate(customers)))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        for reader in readers:
            reader.cancel()
    return {"conversations": len(conversations), **summarize(latencies, elapsed, lost)}


def run_baseline(conversations: int, messages: int, loads: dict, *store: str) -> dict:
    """Each load against the minimal ``websockets`` relay, in its own process; with a libpq
    database URL in ``store``, the relay that commits each frame there first (and with the
    first of the tickets it talks in, as the plugin stores messages)."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.baseline", str(port), *store],
                               cwd=ROOT)
    try:
        wait_for_port(port)
        url = f"ws://127.0.0.1:{port}"
        specs = [Conversation(f"{url}/visitor?conv={i}", f"{url}/agent?conv={i}")
                 for i in range(conversations)]
        return {load: asyncio.run(drive(specs, messages, pace)) for load, pace in loads.items()}
    finally:
        process.terminate()
        process.wait(timeout=10)


def _servers(env: Environment, shop: Shop, count: int, worker_class: str, sockets: int,
             logs: Path) -> list[AppServer]:
    """``count`` gunicorn processes on ``shop`` (sharing Redis when more than one), each
    able to hold ``sockets`` websockets."""
    redis_url = env.redis.url if count > 1 else ""
    if redis_url:
        env.flush_redis()
    servers = [
        AppServer(shop.database_url, redis_url, worker_class=worker_class, threads=sockets + 16,
                  connections=sockets + 100, config=SERVER_CONFIG,
                  log_path=logs / f"{worker_class}-{count}-{i}.log").launch()
        for i in range(count)
    ]
    try:
        for server in servers:
            server.wait_ready()
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers


def run_plugin(shop: Shop, servers: list[AppServer], conversations: int, messages: int,
               pace: float | None) -> dict:
    """The load against running servers, on new tickets of ``shop``; with two processes,
    each conversation's customer is on one and its agent on the other."""
    first, last = bulk_tickets(shop, conversations, 1, status="open")
    tokens = shop.tokens(range(first, last + 1))
    cookie = servers[0].login("alice@shop.test").cookie_header
    specs = []
    for index, (ticket_id, token) in enumerate(zip(range(first, last + 1), tokens, strict=True)):
        front, back = servers[index % len(servers)], servers[(index + 1) % len(servers)]
        specs.append(Conversation(
            f"{front.ws_url}/chat/ws/visitor?after=1",
            f"{back.ws_url}/chat/ws/agent",
            customer_headers={"Origin": ORIGIN},
            agent_headers={"Origin": back.url, "Cookie": cookie},
            subscribe={"type": "subscribe", "ticket_id": ticket_id, "after": 1},
            customer_token=token,
        ))
    return asyncio.run(drive(specs, messages, pace))


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def hold_idle(url: str, tokens: list[str], measure) -> tuple[int, dict]:
    """Open one idle customer socket to ``url`` per visitor token, run ``measure()`` (in a
    thread) while they are all open, close them; how many opened, and what it measured."""
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    sockets = []

    async def open_one(token):
        async with gate:
            socket = await _open(url, {"Origin": ORIGIN}, token)
            sockets.append(socket)
            await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT)  # the status: it is open

    results = await asyncio.gather(*(open_one(token) for token in tokens),
                                   return_exceptions=True)
    try:
        figures = await asyncio.to_thread(measure)
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    return sum(1 for r in results if r is None), figures


def run_idle(shop: Shop, server: AppServer, customers: int, window: float) -> dict:
    """``customers`` idle customer sockets on one running process: its memory per
    connection, and the CPU it uses while they idle (over ``window`` seconds)."""
    first, last = bulk_tickets(shop, customers, 1, status="open")
    tokens = shop.tokens(range(first, last + 1))
    worker = server.pids()[-1]
    before = _rss_kb(worker)

    def measure():
        cpu = _cpu_seconds(worker)
        time.sleep(window)
        return {"rss_kb": _rss_kb(worker),
                "idle_cpu_percent": round((_cpu_seconds(worker) - cpu) / window * 100, 1)}

    connected, figures = asyncio.run(
        hold_idle(f"{server.ws_url}/chat/ws/visitor?after=1", tokens, measure))
    delta = figures["rss_kb"] - before
    return {
        "customers": customers,
        "connected": connected,
        "rss_before_mb": round(before / 1024, 1),
        "rss_after_mb": round(figures["rss_kb"] / 1024, 1),
        "kb_per_connection": round(delta / max(connected, 1), 1),
        "idle_cpu_percent": figures["idle_cpu_percent"],
    }


def run(env: Environment, *, conversations: int, messages: int, pace: float, idle: int,
        worker_classes: tuple[str, ...], logs: Path, idle_window: float = 3.0) -> dict:
    """The whole section: both loads against the baseline, then against the plugin on one
    process and on two, for each worker class; idle sockets on the one process (after the
    loads: every module is loaded by then)."""
    loads = {"burst": None, "paced": pace}
    baseline = run_baseline(conversations, messages, loads)
    durable_db = psycopg_url(env.postgres.create_database(f"bench_{uuid.uuid4().hex[:10]}"))
    durable = run_baseline(conversations, messages, loads, durable_db)
    shop = env.shop()
    first, _last = bulk_tickets(shop, conversations, 1, status="open")
    schema = run_baseline(conversations, messages, loads, psycopg_url(shop.database_url),
                          str(first))
    results = {"conversations": conversations, "messages_each": messages, "pace_s": pace,
               "loads": {load: {"baseline": baseline[load], "durable_baseline": durable[load],
                                "schema_baseline": schema[load], "plugin": []}
                         for load in loads},
               "idle": []}
    for worker_class in worker_classes:
        for processes in (1, 2):
            sockets = 2 * conversations // processes + 1
            if processes == 1:
                sockets = max(sockets, idle)
            servers = _servers(env, shop, processes, worker_class, sockets, logs)
            try:
                for load, load_pace in loads.items():
                    figures = run_plugin(shop, servers, conversations, messages, load_pace)
                    base = baseline[load]
                    for key in ("p50", "p95", "p99"):
                        figures[f"{key}_ratio"] = ratio(figures[f"{key}_ms"], base[f"{key}_ms"])
                    figures["p99_durable_ratio"] = ratio(figures["p99_ms"],
                                                          durable[load]["p99_ms"])
                    figures["p99_schema_ratio"] = ratio(figures["p99_ms"],
                                                         schema[load]["p99_ms"])
                    figures["throughput_ratio"] = ratio(figures["messages_per_s"],
                                                         base["messages_per_s"])
                    results["loads"][load]["plugin"].append(
                        {"processes": processes, "worker_class": worker_class, **figures})
                if processes == 1 and idle:
                    results["idle"].append({"worker_class": worker_class,
                                            **run_idle(shop, servers[0], idle, idle_window)})
            finally:
                for server in servers:
                    server.stop()
    return results
