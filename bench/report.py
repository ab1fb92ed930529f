"""The run's results as JSON and as the markdown summary the README quotes."""

from __future__ import annotations

import json
from pathlib import Path


def write(results: dict, folder: Path) -> tuple[Path, Path]:
    """Write ``<timestamp>.json`` and ``latest.md`` into ``folder``; returns both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{results['started_at'].replace(':', '').replace('-', '')}.json"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    markdown_path = folder / "latest.md"
    markdown_path.write_text(markdown(results))
    return json_path, markdown_path


def ratio(value, base):
    """``value / base`` to two decimals; None when either is missing or the base is 0."""
    try:
        return round(value / base, 2)
    except (TypeError, ZeroDivisionError):
        return None


def _row(*cells) -> str:
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def _relay(section: dict) -> list[str]:
    lines = [
        f"### Relay latency ({section['conversations']} conversations x "
        f"{section['messages_each']} messages; paced = one message every "
        f"{section['pace_s']} s per conversation)",
        "",
        _row("load", "server", "p50 ms", "p95 ms", "p99 ms", "msg/s", "lost",
             "p99 / baseline", "msg/s / baseline", "p99 / durable baseline",
             "p99 / schema baseline"),
        _row(*["---"] * 11),
    ]
    for load, runs in section["loads"].items():
        base = runs["baseline"]
        baselines = (
            ("baseline (websockets relay)", base),
            ("durable baseline (same, each message committed first)", runs["durable_baseline"]),
            ("schema baseline (same, each message stored in the plugin's tables)",
             runs["schema_baseline"]),
        )
        for name, run in baselines:
            lines.append(_row(load, name, run["p50_ms"], run["p95_ms"], run["p99_ms"],
                              run["messages_per_s"], run["lost"],
                              ratio(run["p99_ms"], base["p99_ms"]),
                              ratio(run["messages_per_s"], base["messages_per_s"]), "", ""))
        for run in runs["plugin"]:
            name = f"plugin, {run['processes']} process{'es' if run['processes'] > 1 else ''}"
            name += f" ({run['worker_class']}{', Redis' if run['processes'] > 1 else ''})"
            lines.append(_row(load, name, run["p50_ms"], run["p95_ms"], run["p99_ms"],
                              run["messages_per_s"], run["lost"], run["p99_ratio"],
                              run["throughput_ratio"], run["p99_durable_ratio"],
                              run["p99_schema_ratio"]))
    lines += [
        "",
        "The durable baseline is the bare relay plus one INSERT committed in PostgreSQL per "
        "message (psycopg, asyncio): what any relay that loses nothing pays. The schema "
        "baseline stores each message as the plugin must, in one statement: the ticket's "
        "next sequence number (`UPDATE ... RETURNING`) feeding the message row's `INSERT`, "
        "with the indexes the inbox needs (activity, status, assignee, trigram search) kept "
        "up to date: what any relay on this data model pays, before any framework.",
        "",
    ]
    if section["idle"]:
        lines += [
            "Idle customer sockets on one process:",
            "",
            _row("worker", "connected", "RSS before MB", "RSS after MB", "KB per connection",
                 "idle CPU %"),
            _row(*["---"] * 6),
        ]
        for idle in section["idle"]:
            lines.append(_row(idle["worker_class"], f"{idle['connected']}/{idle['customers']}",
                              idle["rss_before_mb"], idle["rss_after_mb"],
                              idle["kb_per_connection"], idle["idle_cpu_percent"]))
        lines.append("")
    return lines


WIDGET_VISITS = {
    "first": "first visit",
    "repeat": "repeat visit, HTTP cache emptied (storage kept)",
    "next_page": "next page, or repeat visit within a week (HTTP cache and storage kept)",
}


def _share(fraction: float | None) -> str:
    return "-" if fraction is None else f"{fraction:.0%} of visits"


def _widget(section: dict) -> list[str]:
    sizes = f"Loader {section['loader_gzip_bytes']} B gzipped; lazy part (widget.js and "
    sizes += f"widget.css, loaded on the first click) {section['lazy_gzip_bytes']} B."
    rows = [
        _row(WIDGET_VISITS[kind], figures["load_without_widget_ms"],
             figures["load_with_widget_ms"], figures["launcher_visible_ms"],
             figures["launcher_ratio"], figures.get("first_paint_ratio", "-"),
             _share(figures.get("launcher_in_first_paint")))
        for kind in WIDGET_VISITS
        if (figures := section.get(kind, section if kind == "first" else None))
    ]
    return [
        "### Widget weight and first paint",
        "",
        sizes,
        "",
        _row("visit", "page load without widget ms", "page load with widget ms",
             "launcher visible ms", "launcher / plain load", "plain first paint / plain load",
             "launcher in the page's first paint"),
        _row(*["---"] * 7),
        *rows,
        "",
        f"Medians of {section['visits']} rounds, each a fresh browser context, headless "
        "Chromium. Target for repeat visits: launcher / plain load at most 1.3 (a browser "
        "that kept its HTTP cache: the last row).",
        "",
    ]


def _inbox(section: dict) -> list[str]:
    lines = [
        f"### Inbox at volume ({section['tickets']:,} tickets, {section['messages']:,} "
        f"messages, filled in {section['fill_seconds']} s)",
        "",
        _row("query", "p50 ms", "p95 ms", "indexes used", "sequential scans"),
        _row(*["---"] * 5),
    ]
    for name, query in section["queries"].items():
        lines.append(_row(name, query["p50_ms"], query["p95_ms"],
                          ", ".join(query.get("indexes", [])) or "-",
                          ", ".join(query.get("seq_scans", [])) or "-"))
    met = "met" if section["target_met"] else "NOT met"
    lines += ["", f"Target p95 < {section['target_p95_ms']} ms per page: {met} "
                  f"(slowest p95 {section['slowest_p95_ms']} ms).", ""]
    return lines + _reports(section["reports"]) if "reports" in section else lines


def _reports(section: dict) -> list[str]:
    lines = [
        f"### Reports on the same data ({section['conversations']:,} conversations in the "
        "default 30 days)",
        "",
        _row("report", "p50 ms", "p95 ms"),
        _row(*["---"] * 3),
    ]
    for name, query in section["queries"].items():
        lines.append(_row(name, query["p50_ms"], query["p95_ms"]))
    met = "met" if section["target_met"] else "NOT met"
    lines += ["", f"Target p95 < {section['target_p95_ms']} ms per report: {met} "
                  f"(slowest p95 {section['slowest_p95_ms']} ms).", ""]
    return lines


def _http(section: dict) -> list[str]:
    lines = [
        f"### HTTP throughput ({section['workers']} gunicorn workers x {section['threads']} "
        f"threads, {section['connections']} connections, {section['seconds']} s each)",
        "",
        _row("request", "tool", "requests/s", "p50 ms", "p99 ms", "errors", "/ baseline"),
        _row(*["---"] * 7),
    ]
    for name in ("home_page_baseline", "start_chat", "send_message"):
        run = section[name]
        lines.append(_row(name, run["tool"], run["requests_per_s"], run["p50_ms"],
                          run["p99_ms"], run["errors"], run.get("ratio_to_baseline", 1)))
    lines.append("")
    return lines


def _host_pages(section: dict) -> list[str]:
    command = section["command"]
    lines = [
        f"### Host pages with idle customers (gunicorn {command['worker_class']}, "
        f"{command['workers']} workers x {command['connections']} connections, Redis; "
        f"{section['connections']} connections, {section['seconds']} s each)",
        "",
        _row("home page", "requests/s", "p50 ms", "p99 ms", "errors"),
        _row(*["---"] * 5),
    ]
    for name, run in (("alone", section["alone"]),
                      (f"{section['connected']} of {section['sockets']} idle customer sockets "
                       "open", section["with_idle_sockets"])):
        lines.append(_row(name, run["requests_per_s"], run["p50_ms"], run["p99_ms"],
                          run["errors"]))
    met = section["p99_ratio"] is not None and section["p99_ratio"] <= section["target_ratio"]
    lines += ["", f"p99 with the sockets / alone: {section['p99_ratio']} (target at most "
                  f"{section['target_ratio']}: {'met' if met else 'not met'})", ""]
    return lines


RENDERERS = {"relay": _relay, "widget": _widget, "inbox": _inbox, "http": _http,
             "host_pages": _host_pages}


def markdown(results: dict) -> str:
    """The summary: machine, then one table per section (or why a section did not run)."""
    machine = results["machine"]
    lines = [
        f"## Benchmarks of {results['started_at']} ({results['duration_s']} s)",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), "
        f"{machine['memory_gb']} GB memory, Python {machine['python']}, {machine['system']}. "
        "Servers, PostgreSQL, Redis and the load generator share it.",
        "",
    ]
    for name, section in results["sections"].items():
        if "error" in section:
            lines += [f"### {name}", "", f"Not measured: {section['error']}", ""]
        else:
            lines += RENDERERS[name](section)
    return "\n".join(lines)
