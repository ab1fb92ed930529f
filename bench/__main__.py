"""``python -m bench``: run the benchmarks (bounded to 10 minutes) and write the results.

``python -m bench --quick`` runs every section at tiny sizes in seconds (what the test suite's
smoke test does); ``--sections relay,inbox`` runs some of them; sizes are options.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import hostpages, inbox, relay, report, throughput, widget
from bench.env import Environment, machine

RESULTS = Path(__file__).resolve().parent / "results"
SECTIONS = ("relay", "widget", "inbox", "http", "host_pages")
QUICK = {"conversations": 3, "messages": 2, "pace": 0.2, "idle": 20, "visits": 1,
         "tickets": 300, "inbox_messages": 1500, "samples": 3, "seconds": 0.5,
         "connections": 4, "worker_classes": "gthread", "idle_window": 0.5,
         "http_tool": "python", "host_sockets": 20}


class OutOfTime(Exception):
    """The run's time budget is spent."""


def parse(argv=None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help="comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--conversations", type=int, default=200, help="relay: K")
    parser.add_argument("--messages", type=int, default=4, help="relay: M per conversation")
    parser.add_argument("--pace", type=float, default=10.0,
                        help="relay: seconds between two messages of a paced conversation")
    parser.add_argument("--idle", type=int, default=1000, help="idle customer sockets")
    parser.add_argument("--idle-window", type=float, default=3.0,
                        help="seconds over which the idle sockets' CPU use is measured")
    parser.add_argument("--worker-classes", default="gthread,gevent",
                        help="gunicorn worker classes to compare")
    parser.add_argument("--visits", type=int, default=10, help="widget: page visits each")
    parser.add_argument("--tickets", type=int, default=100_000, help="inbox: tickets")
    parser.add_argument("--inbox-messages", type=int, default=1_000_000,
                        help="inbox: messages in all")
    parser.add_argument("--samples", type=int, default=40, help="inbox: timings per query")
    parser.add_argument("--seconds", type=float, default=8.0, help="http: seconds per request")
    parser.add_argument("--connections", type=int, default=16, help="http: connections")
    parser.add_argument("--host-sockets", type=int, default=2000,
                        help="host_pages: idle customer sockets open while the home page is "
                             "measured (http's --seconds and --connections)")
    parser.add_argument("--http-tool", choices=("auto", "wrk", "python"), default="auto",
                        help="http: load tool (auto: wrk when installed)")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds for the whole run")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    return args


def run_section(name: str, args, env: Environment, logs: Path) -> dict:
    """Run one section with the options that concern it."""
    if name == "relay":
        return relay.run(env, conversations=args.conversations, messages=args.messages,
                         pace=args.pace, idle=args.idle, idle_window=args.idle_window, logs=logs,
                         worker_classes=tuple(args.worker_classes.split(",")))
    if name == "widget":
        return widget.run(env, visits=args.visits, logs=logs)
    if name == "inbox":
        return inbox.run(env, tickets=args.tickets, messages=args.inbox_messages,
                         samples=args.samples, logs=logs)
    if name == "host_pages":
        return hostpages.run(env, sockets=args.host_sockets, seconds=args.seconds,
                             connections=args.connections, logs=logs)
    return throughput.run(env, seconds=args.seconds, connections=args.connections, logs=logs,
                          tool=args.http_tool)


def main(argv=None) -> dict:
    """Run the chosen sections within the budget; write and return the results."""
    args = parse(argv)
    names = [name for name in args.sections.split(",") if name]
    unknown = set(names) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown section(s) {sorted(unknown)}; choose from {SECTIONS}")
    started = time.monotonic()
    results = {"started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
               "machine": machine(), "options": {k: str(v) for k, v in vars(args).items()
                                                 if k != "out"}, "sections": {}}

    def out_of_time(signum, frame):
        raise OutOfTime(f"the {args.budget:.0f} s budget was spent")

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, args.budget)
    env = None
    try:
        env = Environment()
        with tempfile.TemporaryDirectory(prefix="responso-bench-") as logs:
            spent = None
            for name in names:
                if spent:
                    results["sections"][name] = {"error": spent}
                    continue
                section_started = time.monotonic()
                print(f"bench: {name}...", flush=True)
                try:
                    results["sections"][name] = run_section(name, args, env, Path(logs))
                except OutOfTime as exc:
                    spent = str(exc)
                    results["sections"][name] = {"error": spent}
                    continue
                results["sections"][name]["section_seconds"] = round(
                    time.monotonic() - section_started, 1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if env is not None:
            env.close()
    results["duration_s"] = round(time.monotonic() - started, 1)
    json_path, markdown_path = report.write(results, args.out)
    print(markdown_path.read_text())
    print(f"bench: results in {json_path} and {markdown_path}")
    return results


if __name__ == "__main__":
    main()
