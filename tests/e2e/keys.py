"""What a person does with the keyboard, for the browser tests (see ``conftest.py``)."""

from __future__ import annotations

CLIPBOARD = ["clipboard-read", "clipboard-write"]

#: Letters typed on a Polish (programmer) keyboard with AltGr (reported on Linux as a level
#: shift, not as a modifier), and on a French (AZERTY) one: the key a person presses for each,
#: as the browser reports it in ``KeyboardEvent.code``.
LAYOUT_KEYS = {
    "ą": "KeyA", "ć": "KeyC", "ę": "KeyE", "ł": "KeyL", "ń": "KeyN", "ó": "KeyO",
    "ś": "KeyS", "ź": "KeyX", "ż": "KeyZ",
    "é": "Digit2", "è": "Digit7", "ç": "Digit9", "à": "Digit0",
}


def put_on_clipboard(page, text: str):
    """Set up the clipboard as if the person had copied ``text`` somewhere else."""
    page.context.grant_permissions(CLIPBOARD)
    page.evaluate("text => navigator.clipboard.writeText(text)", text)


def paste(field, text: str):
    """Click ``field``, go to the end of its text and paste ``text`` with Ctrl+V.

    Only the clipboard is set up from the page's script; the field gets the text from a
    real key press, as a person pastes.
    """
    put_on_clipboard(field.page, text)
    field.click()
    field.page.keyboard.press("Control+End")
    field.page.keyboard.press("Control+V")


def _cdp(page):
    session = getattr(page, "_keys_cdp", None)
    if session is None:
        session = page.context.new_cdp_session(page)
        page._keys_cdp = session
    return session


def _key(page, event_type, key, code, text=""):
    """One key event sent to the browser as its input (CDP), not made up by the page."""
    _cdp(page).send("Input.dispatchKeyEvent", {
        "type": event_type, "key": key, "code": code, "text": text, "unmodifiedText": text,
    })


def type_on_layout(page, text: str):
    """Type ``text`` as a person with a Polish or French keyboard does: each accented letter
    is one real key press (``keydown`` with that letter as its ``key``, then ``input``),
    which is what a page's key handler sees. Letters of a US keyboard go through Playwright.
    """
    for char in text:
        code = LAYOUT_KEYS.get(char)
        if code is None:
            page.keyboard.type(char)
            continue
        _key(page, "keyDown", char, code, char)
        _key(page, "keyUp", char, code)


def type_with_dead_key(page, accent_code: str, letter: str, composed: str):
    """A dead key then a letter, as on a keyboard with dead accents (Windows, Linux): the
    dead key's ``keydown`` reports ``key == "Dead"`` and types nothing; the letter's key
    then types the ``composed`` character."""
    _key(page, "rawKeyDown", "Dead", accent_code)
    _key(page, "keyUp", "Dead", accent_code)
    _key(page, "keyDown", composed, "Key" + letter.upper(), composed)
    _key(page, "keyUp", composed, "Key" + letter.upper())


def retype(field, text: str):
    """Replace the text of ``field`` as a person does: select it all, then type over it."""
    field.click()
    field.press("Control+A")
    if text:
        field.press_sequentially(text)
    else:
        field.press("Backspace")
