"""Browser tests: what each of them must do, so that a page a person cannot use fails here.

A widget once cancelled every key press in its own forms and the whole suite stayed green,
because the tests set values without pressing a key. A browser test therefore:

1. Types with real key presses: ``locator.press_sequentially(text)`` or
   ``page.keyboard.type(text)``, never ``fill()``. ``fill()`` is kept only where a comment
   says why (a colour picker has no text to type; thousands of characters would take too
   long to type).
2. Pastes at least once per form: :func:`paste` puts text on the clipboard and presses
   Ctrl+V in the focused field; the test then checks the field's value.
3. Moves between fields as a person does when that is what it checks (Tab, Shift+Tab),
   and clicks real elements with the mouse: ``get_by_role(...).click()``.
4. Finds fields by their label and buttons by their role and name (``get_by_label``,
   ``get_by_role``): what a person, or a screen reader, finds.
5. Never sets a value a person would enter from JavaScript (``evaluate``, injected CSS or
   ``value =``). Page scripts only set up what the person does not do: the clipboard's
   content, a customer's websocket, a shop's call to the widget's API.
6. Fails on any uncaught page error and any console error: the ``new_page`` fixture
   records them for every page it opens (tabs opened later included) and the test fails
   on them. An expected console error (a refused origin) is allowed by name in that test,
   with ``new_page.allow_console(pattern)``.
7. Takes a screenshot of each new screen, and someone looks at it before it is merged
   (screenshots go to ``$RESPONSO_CHAT_SCREENSHOTS`` or the temporary directory; they are
   not committed).
"""

from __future__ import annotations

import pytest

from responso_chat.conversation import chats
from tests.conftest import BrowserPages
from tests.e2e.storefront import storefront_app
from tests.factories import make_chat


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A browser test that passed still fails if one of its pages reported an error."""
    result = yield
    pages = item.funcargs.get("new_page")
    if isinstance(pages, BrowserPages):
        pages.check(final=True)
    return result


@pytest.fixture
def shop(app, live_server):
    """The plugin (the module's ``app``) on one port, a shop on another: ``shop.use(**chat)``
    makes a chat and pastes its embed code into every page of the shop."""
    plugin = live_server(app)
    embed = {"code": ""}
    store = live_server(storefront_app(embed))

    def use(**fields):
        with app.app_context():
            fields.setdefault("allowed_origins", [store.url])
            chat = make_chat(fields.pop("name", "Store chat"), **fields)
            embed["code"] = chats.embed_snippet(chat, plugin.url)
            return chat.id

    store.plugin, store.use = plugin, use
    return store
