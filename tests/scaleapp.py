"""The test host shop as a production server process would load it: ``tests.scaleapp:create_app()``.

Gunicorn (or any WSGI server) imports it in a separate process; the settings come from the
environment, so several processes share one PostgreSQL database and one Redis:

- ``SCALEAPP_DATABASE_URL``: SQLAlchemy URL of a database whose tables exist already;
- ``SCALEAPP_REDIS_URL``: Redis URL (empty: in-process broker, like the embedded mode);
- ``SCALEAPP_CONFIG``: optional JSON object of extra Flask settings (say, raised rate limits).
"""

from __future__ import annotations

import json
import os

from tests.hostapp import create_host_app


def create_app():
    """A host app with the plugin, configured from the environment."""
    config = json.loads(os.environ.get("SCALEAPP_CONFIG") or "{}")
    config.setdefault("RESPONSO_CHAT_REDIS_URL", os.environ.get("SCALEAPP_REDIS_URL", ""))
    return create_host_app(os.environ["SCALEAPP_DATABASE_URL"], **config)
