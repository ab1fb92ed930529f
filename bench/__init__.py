"""Benchmarks of Responso Chat (``python -m bench``, ``make bench``); never part of the tests.

Four sections, each reported against a baseline measured in the same run:

- ``relay``: websocket relay latency and throughput of the plugin (one process; two processes
  with Redis; gunicorn threads and gevent) against a minimal relay written directly on the
  ``websockets`` library, and the memory of idle customer connections;
- ``widget``: the widget's gzipped weight and the time until its launcher shows in headless
  Chromium, against the same page without the widget;
- ``inbox``: inbox pages and search at volume on PostgreSQL, with their query plans;
- ``http``: "Start chat" and "send message" requests per second over HTTP on loopback.

Results go to ``bench/results/<timestamp>.json`` and ``bench/results/latest.md``.
"""
