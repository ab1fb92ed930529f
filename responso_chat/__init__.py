"""Responso Chat: a live-chat channel for Flask shops, as a Flask extension.

::

    chat = ResponsoChat(app, db=db)      # or ResponsoChat().init_app(app, db=db)
"""

from responso_chat import signals
from responso_chat.config import ConfigurationError
from responso_chat.extension import ResponsoChat
from responso_chat.version import __version__

__all__ = ["ResponsoChat", "ConfigurationError", "signals", "__version__"]
