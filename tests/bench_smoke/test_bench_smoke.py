"""A smoke run of every benchmark at tiny sizes, so ``make bench`` does not rot.

It runs ``python -m bench --quick`` as ``make bench`` runs the full one, in its own process
(with its own PostgreSQL and Redis). The figures mean nothing at these sizes; the test checks
that each section runs end to end and that the JSON and markdown results are written.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.__main__ import SECTIONS
from tests.appserver import ROOT

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.e2e, pytest.mark.timeout(90)]


def test_every_benchmark_runs_at_tiny_sizes(tmp_path):
    subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
                   cwd=ROOT, check=True, timeout=85, capture_output=True)

    results = json.loads(next(tmp_path.glob("*.json")).read_text())
    sections = results["sections"]
    assert set(sections) == set(SECTIONS) and not [s for s in sections.values() if "error" in s]
    for load in ("burst", "paced"):
        runs = sections["relay"]["loads"][load]
        for baseline in ("baseline", "durable_baseline", "schema_baseline"):
            assert (runs[baseline]["lost"], runs[baseline]["messages"]) == (0, 6)
        assert [(r["processes"], r["lost"], r["messages"]) for r in runs["plugin"]] == [
            (1, 0, 6), (2, 0, 6)
        ]
    assert sections["relay"]["idle"][0]["connected"] == 20
    assert 0 < sections["widget"]["loader_gzip_bytes"] < sections["widget"]["lazy_gzip_bytes"]
    assert sections["widget"]["launcher_visible_ms"] > 0
    for visit in ("first", "repeat", "next_page"):
        assert sections["widget"][visit]["launcher_ratio"] > 0
    pages = sections["inbox"]["queries"]
    assert {"all_first_page", "search_common_word", "view_counts", "http_inbox_page"} <= set(pages)
    assert all("seq_scans" in query for name, query in pages.items() if name.endswith("page")
               and not name.startswith("http"))
    reports = sections["inbox"]["reports"]
    assert set(reports["queries"]) == {"report_all_chats_30_days", "report_one_chat_30_days",
                                       "report_all_chats_one_day", "http_reports_page"}
    assert reports["conversations"] > 0 and reports["target_p95_ms"] == 200
    for name in ("home_page_baseline", "start_chat", "send_message"):
        assert sections["http"][name]["requests_per_s"] > 0
        assert sections["http"][name]["errors"] == 0
    host_pages = sections["host_pages"]
    assert host_pages["connected"] == 20 and host_pages["with_idle_sockets"]["errors"] == 0
    assert host_pages["p99_ratio"] > 0
    assert results["machine"]["nproc"] >= 1
    summary = (tmp_path / "latest.md").read_text()
    assert "Relay latency" in summary and "Inbox at volume" in summary and "Host pages" in summary
    assert "Reports on the same data" in summary
