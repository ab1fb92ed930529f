"""The access matrix: what every endpoint of the plugin answers to each kind of caller.

``tests/test_security_access.py`` walks the app's URL map: every plugin endpoint and method
must have an entry in :data:`MATRIX` (a new route without one fails the suite, listed by
name), and each entry is requested once per role against a fresh :func:`build_world`.

Shape of the table::

    MATRIX[(endpoint, method)] = Entry(anonymous, visitor, agent_without_access, agent, admin,
                                       auth="session", body=None, query="")

- ``endpoint`` is the Flask endpoint (``responso_chat.inbox.ticket_page``), ``method`` one of
  GET/POST/PUT/PATCH/DELETE (HEAD and OPTIONS are not listed).
- The five answers are, per role of :data:`ROLES`, an ``int`` status code or one of the
  classes :data:`OK` (any 2xx), :data:`REDIRECT` (any 3xx except to the login page) and
  :data:`LOGIN` (a redirect to the host's login page). Websockets answer 101 (upgraded) or
  403 (refused before the upgrade).
- ``auth`` says how the request carries credentials (every role but ``anonymous`` also sends
  its host session cookie, see :data:`ACCOUNTS`):

  ``"session"``   the session cookie, plus a valid ``X-CSRFToken`` header on unsafe methods
                  (CSRF itself is checked by test_security_access.py for every such route);
  ``"visitor"``   the visitor also sends ``Authorization: Bearer <visitor token>`` of the
                  world's ticket; nobody sends a CSRF token;
  ``"api"``       agents and the admin also send ``Authorization: Bearer <API token>``, made
                  by ``api_token(user_id)`` — a function the API's entries add to this module
                  (inside an app context, returning a token of that user); the visitor sends
                  its visitor token, which the API must refuse;
  ``"websocket"`` a websocket handshake against a live server with ``Origin`` = the
                  server's own; the visitor sends its token as the widget does, as the
                  subprotocol (``Sec-WebSocket-Protocol: responso-chat, <token>``).

- ``body`` is sent with unsafe methods: form fields for ``"session"``, JSON for the others.
  String values are formatted with ``role`` (the role's name, so each role creates a
  different project, contact, ...) and the world's values (``{tag}``, ``{serial}``).
  ``query`` is appended to the URL (``"after=0"``).
- URL variables (``<int:ticket_id>``) are filled from :func:`build_world`'s dict, by name;
  a route with a new variable needs a value there too.

Roles: ``anonymous`` (no cookie), ``visitor`` (a customer: the host's customer account and,
where it counts, the visitor token of the world's ticket), ``agent_without_access`` (Bob: an
agent, not an agent of the world's chat), ``agent`` (Alice: an agent of the world's chat),
``admin``. Within one entry the roles are requested in that order, on one world, so a
destructive request (delete) by the admin comes last.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta

from werkzeug.datastructures import FileStorage

from responso_chat.automations import rules
from responso_chat.conversation.visitor import issue_token
from responso_chat.files import attachments, upload
from responso_chat.inbox import contacts, tasks, teams
from responso_chat.integrations import api_tokens, webhooks
from responso_chat.mail import signing
from responso_chat.models import (
    Attachment,
    CannedResponse,
    Order,
    ProactiveMessage,
    Tag,
    utcnow,
)
from responso_chat.state import plugin_state
from responso_chat.users import Agent
from tests.factories import make_chat, make_ticket

ROLES = ("anonymous", "visitor", "agent_without_access", "agent", "admin")

#: The host account each role is logged in as (None: not logged in).
ACCOUNTS = {
    "anonymous": None,
    "visitor": "carl@shop.test",
    "agent_without_access": "bob@shop.test",
    "agent": "alice@shop.test",
    "admin": "admin@shop.test",
}
#: The host user id of each logged-in role.
USER_IDS = {"visitor": "4", "agent_without_access": "3", "agent": "2", "admin": "1"}

OK = "2xx"
REDIRECT = "redirect"
LOGIN = "login"

Answer = int | str


@dataclass(frozen=True)
class Entry:
    """What one endpoint and method answers to each role, and how to call it."""

    anonymous: Answer
    visitor: Answer
    agent_without_access: Answer
    agent: Answer
    admin: Answer
    auth: str = "session"
    body: dict | None = None
    query: str = ""

    def answer(self, role: str) -> Answer:
        """The expected answer for ``role``."""
        return getattr(self, role)


def admin_page(admin: Answer = OK, **fields) -> Entry:
    """An admin-only page: the login for anonymous users, 403 for everyone else."""
    return Entry(LOGIN, 403, 403, 403, admin, **fields)


def agent_page(others: Answer = OK, **fields) -> Entry:
    """An inbox page every agent may use (not tied to one chat)."""
    return Entry(LOGIN, 403, others, others, others, **fields)


def ticket_page(answer: Answer = OK, **fields) -> Entry:
    """An inbox route of the world's ticket: 404 for an agent without access to its chat."""
    return Entry(LOGIN, 403, 404, answer, answer, **fields)


def public(answer: Answer = OK, **fields) -> Entry:
    """A public endpoint: everyone gets the same answer."""
    return Entry(answer, answer, answer, answer, answer, **fields)


def visitor_only(answer: Answer = OK, **fields) -> Entry:
    """A widget route needing the visitor token: 401 for everyone else, logged in or not."""
    return Entry(401, answer, 401, 401, 401, auth="visitor", **fields)


def api_agent(answer: Answer = OK, **fields) -> Entry:
    """An API route every agent's token may use (401 without a token, or a visitor's)."""
    return Entry(401, 401, answer, answer, answer, auth="api", **fields)


def api_ticket(answer: Answer = OK, **fields) -> Entry:
    """An API route of the world's ticket: 404 for an agent without access to its chat."""
    return Entry(401, 401, 404, answer, answer, auth="api", **fields)


def api_admin(answer: Answer = OK, **fields) -> Entry:
    """An API route needing an admin's token: 403 for agents."""
    return Entry(401, 401, 403, 403, answer, auth="api", **fields)


def api_token(user_id: str) -> str:
    """A new API token of the host user ``user_id`` (inside an app context)."""
    return api_tokens.create_token(user_id, "access matrix")[1]


ADMIN = "responso_chat.admin."
API = "responso_chat.api."
ACCOUNT = "responso_chat.account."
WEBHOOKS = "responso_chat.webhooks."
AUTOMATIONS = "responso_chat.automations."
INBOX = "responso_chat.inbox."
WIDGET = "responso_chat.widget."

MATRIX: dict[tuple[str, str], Entry] = {
    # --- admin: chats and integrations (admins only) ---------------------------------------
    (ADMIN + "chat_list", "GET"): admin_page(),
    (ADMIN + "channel_new", "GET"): admin_page(),
    (ADMIN + "chat_create", "GET"): admin_page(),
    (ADMIN + "chat_create", "POST"): admin_page(422),  # empty form: refused field by field
    (ADMIN + "chat_edit", "GET"): admin_page(),
    (ADMIN + "chat_edit", "POST"): admin_page(422),
    (ADMIN + "allow_origin", "POST"): admin_page(REDIRECT),
    (ADMIN + "chat_delete", "GET"): admin_page(),
    (ADMIN + "chat_delete", "POST"): admin_page(REDIRECT),
    (ADMIN + "proactive_list", "GET"): admin_page(),
    (ADMIN + "proactive_create", "GET"): admin_page(),
    (ADMIN + "proactive_create", "POST"): admin_page(422),  # empty form: refused field by field
    (ADMIN + "proactive_edit", "GET"): admin_page(),
    (ADMIN + "proactive_edit", "POST"): admin_page(422),
    (ADMIN + "proactive_enable", "POST"): admin_page(REDIRECT, body={"enabled": "0"}),
    (ADMIN + "proactive_delete", "POST"): admin_page(REDIRECT),
    (ADMIN + "base_integration", "GET"): admin_page(),
    (ADMIN + "base_integration", "POST"): admin_page(422),
    (ADMIN + "mail_integration", "GET"): admin_page(),
    (ADMIN + "mail_integration", "POST"): admin_page(REDIRECT),
    # --- admin: automations ----------------------------------------------------------------
    (AUTOMATIONS + "rule_list", "GET"): admin_page(),
    (AUTOMATIONS + "rule_create", "GET"): admin_page(),
    (AUTOMATIONS + "rule_create", "POST"): admin_page(422),
    (AUTOMATIONS + "rule_edit", "GET"): admin_page(),
    (AUTOMATIONS + "rule_edit", "POST"): admin_page(422),
    (AUTOMATIONS + "rule_delete", "POST"): admin_page(REDIRECT),
    (AUTOMATIONS + "rule_enable", "POST"): admin_page(REDIRECT, body={"enabled": "0"}),
    (AUTOMATIONS + "rule_move", "POST"): admin_page(REDIRECT, body={"direction": "up"}),
    (AUTOMATIONS + "rule_dry_run", "GET"): admin_page(),
    (AUTOMATIONS + "failed_jobs", "GET"): admin_page(),
    (ADMIN + "privacy_log", "GET"): admin_page(),
    # --- inbox: lists, tasks, projects, contacts (every agent) -------------------------------
    (INBOX + "ticket_list", "GET"): agent_page(),
    (INBOX + "view_counts", "GET"): agent_page(),
    (INBOX + "task_list", "GET"): agent_page(),
    (INBOX + "task_new", "GET"): agent_page(),
    (INBOX + "task_new", "POST"): agent_page(REDIRECT, body={"title": "Call back {role} {serial}"}),
    # The world's task is linked to the world's ticket: hidden from agents without access.
    (INBOX + "task_done", "POST"): ticket_page(REDIRECT, body={"done": "1"}),
    (INBOX + "project_list", "GET"): agent_page(),
    (INBOX + "project_list", "POST"): agent_page(
        REDIRECT, body={"name": "Project {role} {serial}"}
    ),
    (INBOX + "contact_list", "GET"): agent_page(),
    (INBOX + "contact_list", "POST"): agent_page(
        REDIRECT, body={"name": "Contact {role}", "email": "{role}-{serial}@contacts.test"}
    ),
    (INBOX + "contact_page", "GET"): agent_page(),
    (INBOX + "contact_page", "POST"): agent_page(
        REDIRECT, body={"name": "Renamed {role}", "email": "renamed-{role}-{serial}@contacts.test"}
    ),
    # --- inbox: a contact's privacy (admins) -------------------------------------------------
    (INBOX + "contact_export", "POST"): admin_page(),
    (INBOX + "contact_erase", "GET"): admin_page(),
    (INBOX + "contact_erase", "POST"): admin_page(
        REDIRECT, body={"confirm": "contact-{serial}@contacts.test"}
    ),
    # --- inbox: canned responses (the world's one is shared: admins manage it) -------------
    (INBOX + "canned_list", "GET"): agent_page(),
    (INBOX + "canned_choices", "GET"): agent_page(),
    (INBOX + "canned_new", "GET"): agent_page(),
    (INBOX + "canned_new", "POST"): agent_page(
        REDIRECT, body={"title": "Hello {role}", "shortcut": "hi-{serial}",
                        "body": "Hello {{{{ customer_name }}}}"}
    ),
    (INBOX + "canned_edit", "GET"): Entry(LOGIN, 403, 403, 403, OK),
    (INBOX + "canned_edit", "POST"): Entry(
        LOGIN, 403, 403, 403, REDIRECT,
        body={"title": "Shared {role}", "shortcut": "shared-{serial}", "body": "Hi",
              "shared": "true"},
    ),
    (INBOX + "canned_delete", "GET"): Entry(LOGIN, 403, 403, 403, OK),
    (INBOX + "canned_delete", "POST"): Entry(LOGIN, 403, 403, 403, REDIRECT),
    (INBOX + "canned_fill", "GET"): ticket_page(),
    # --- inbox: teams (admins) -------------------------------------------------------------
    (INBOX + "team_list", "GET"): admin_page(),
    (INBOX + "team_list", "POST"): admin_page(REDIRECT, body={"name": "Team {role} {serial}"}),
    (INBOX + "team_update", "POST"): admin_page(REDIRECT, body={"name": "Renamed team {serial}"}),
    # --- inbox: the world's ticket (agents of its chat, and admins) --------------------------
    (INBOX + "ticket_page", "GET"): ticket_page(),
    (INBOX + "ticket_messages", "GET"): ticket_page(query="after=0"),
    (INBOX + "send_message", "POST"): ticket_page(REDIRECT, body={"body": "Reply by {role}"}),
    # Without a file the upload is refused (422) once access and CSRF passed.
    (INBOX + "upload_files", "POST"): ticket_page(422, body={"body": "File by {role}"}),
    (INBOX + "set_availability", "POST"): agent_page(REDIRECT, body={"status": "away"}),
    (INBOX + "correct_analysis", "POST"): ticket_page(
        REDIRECT, body={"sentiment": "negative", "context": "complaint"}),
    (INBOX + "take_over", "POST"): ticket_page(REDIRECT),
    (INBOX + "set_status", "POST"): ticket_page(REDIRECT, body={"status": "pending"}),
    (INBOX + "set_priority", "POST"): ticket_page(REDIRECT, body={"priority": "high"}),
    (INBOX + "set_assignee", "POST"): ticket_page(REDIRECT, body={"assignee": "2"}),
    (INBOX + "set_team", "POST"): ticket_page(REDIRECT, body={"team": ""}),
    (INBOX + "add_tag", "POST"): ticket_page(REDIRECT, body={"tag": "vip-{role}"}),
    (INBOX + "remove_tag", "POST"): ticket_page(REDIRECT, body={"tag": "{tag}"}),
    (INBOX + "add_watcher", "POST"): ticket_page(REDIRECT, body={"user_id": "2"}),
    (INBOX + "remove_watcher", "POST"): ticket_page(REDIRECT, body={"user_id": "2"}),
    (INBOX + "close_ticket", "POST"): ticket_page(REDIRECT),
    (INBOX + "add_to_contacts", "POST"): ticket_page(REDIRECT),
    (INBOX + "disable_autoresponder", "POST"): ticket_page(REDIRECT),
    (INBOX + "new_ticket", "POST"): ticket_page(
        REDIRECT, body={"subject": "Follow-up {role}", "body": "About your order"}
    ),
    # The world's team: every agent of the chat may hand the ticket to it (again).
    (INBOX + "transfer", "POST"): ticket_page(
        REDIRECT, body={"target": "team:{team_id}", "note": "Over to you, from {role}"}
    ),
    (INBOX + "orders_panel", "GET"): ticket_page(),
    # No Base token in the world: the panel's outcome is flashed and the page comes back.
    (INBOX + "orders_refresh", "POST"): ticket_page(REDIRECT),
    (INBOX + "order_status", "POST"): ticket_page(REDIRECT, body={"status_id": "2"}),
    # Lookups read the cache (no Base token in the world); the world's order is cached.
    (INBOX + "order_lookup", "GET"): ticket_page(query="q=1202"),
    (INBOX + "order_link", "POST"): ticket_page(REDIRECT),
    (INBOX + "order_unlink", "POST"): ticket_page(REDIRECT),
    # --- storefront widget -------------------------------------------------------------------
    (WIDGET + "config", "GET"): public(),
    (WIDGET + "loader", "GET"): public(),
    (WIDGET + "start_chat", "POST"): public(
        201,
        auth="visitor",
        body={
            "name": "Matrix {role}",
            "email": "{role}@customers.test",
            "subject": "Hello",
            "message": "A question from {role}",
        },
    ),
    (WIDGET + "resume", "GET"): visitor_only(query="after=0"),
    (WIDGET + "continue_by_mail", "GET"): public(REDIRECT),
    (WIDGET + "send", "POST"): visitor_only(
        201, body={"body": "Hi from {role}", "client_msg_id": "matrix-{role}"}
    ),
    # The world's ticket is open: the visitor reaches it, and is told it has not ended.
    (WIDGET + "rate", "POST"): visitor_only(409, body={"score": 4, "comment": "By {role}"}),
    # "My orders": the shop vouches for no typed address, and no SMTP server is set up in the
    # world; an access token is none of the credentials a role holds (a visitor token is not).
    (WIDGET + "order_access", "POST"): public(
        403, auth="visitor", body={"email": "{role}@customers.test"}),
    (WIDGET + "order_code", "POST"): public(
        503, auth="visitor", body={"email": "{role}@customers.test"}),
    (WIDGET + "order_verify", "POST"): public(
        422, auth="visitor", body={"email": "{role}@customers.test", "code": "123456"}),
    (WIDGET + "my_orders", "GET"): public(401, auth="visitor"),
    (WIDGET + "order_request", "POST"): public(401, auth="visitor", body={"request": "ask"}),
    (WIDGET + "upload_files", "POST"): visitor_only(422, body={"body": "File by {role}"}),
    # A signed file URL is its own credential: anyone holding it gets the file.
    (WIDGET + "serve_file", "GET"): public(),
    (WIDGET + "context", "POST"): visitor_only(
        body={"trail": [{"path": "/shop", "title": "Shop {role}", "at": "2026-12-07T20:00:00Z"}],
              "events": [{"event": "add_to_cart", "data": {"sku": "A-1"},
                          "at": "2026-12-07T20:00:01Z"}]}
    ),
    (WIDGET + "cart_value", "GET"): public(),
    (WIDGET + "proactive_beacon", "POST"): public(auth="visitor"),
    ("responso_chat.static", "GET"): public(),
    # --- JSON API ----------------------------------------------------------------------------
    ("responso_chat.api.health", "GET"): public(),
    (API + "openapi_document", "GET"): public(),
    (API + "docs", "GET"): public(),
    (API + "chat_list", "GET"): api_admin(),
    (API + "chat_read", "GET"): api_admin(),
    (API + "chat_create", "POST"): api_admin(201, body={"name": "API chat {role} {serial}"}),
    (API + "chat_update", "PATCH"): api_admin(body={"welcome_message": "Hi from {role}"}),
    (API + "ticket_list", "GET"): api_agent(),
    (API + "ticket_read", "GET"): api_ticket(),
    # The body cannot carry the world's chat id as a number: refused by every agent.
    (API + "ticket_create", "POST"): api_agent(422, body={"chat_id": "{chat_id}"}),
    (API + "ticket_update", "PATCH"): api_ticket(body={"priority": "high"}),
    (API + "message_list", "GET"): api_ticket(),
    (API + "message_read", "GET"): api_ticket(),
    (API + "message_create", "POST"): api_ticket(201, body={"body": "API reply by {role}"}),
    (API + "upload_files", "POST"): api_ticket(422, body={"body": "API file by {role}"}),
    (API + "tag_list", "GET"): api_agent(),
    (API + "tag_read", "GET"): api_agent(),
    (API + "tag_create", "POST"): api_agent(201, body={"name": "api-{role}-{serial}"}),
    (API + "tag_update", "PATCH"): api_admin(body={"name": "renamed-{role}-{serial}"}),
    (API + "contact_list", "GET"): api_agent(),
    (API + "contact_read", "GET"): api_agent(),
    (API + "contact_create", "POST"): api_agent(
        201, body={"name": "API {role}", "email": "api-{role}-{serial}@contacts.test"}
    ),
    (API + "contact_update", "PATCH"): api_agent(body={"notes": "Seen by {role}"}),
    (API + "contact_export", "GET"): api_admin(),
    (API + "contact_erase", "POST"): api_admin(body={"confirm": "contact-{serial}@contacts.test"}),
    (API + "task_list", "GET"): api_agent(),
    (API + "task_read", "GET"): api_ticket(),  # the world's task is linked to its ticket
    (API + "task_create", "POST"): api_agent(201, body={"title": "API task {role}"}),
    (API + "task_update", "PATCH"): api_ticket(body={"done": True}),
    (API + "canned_list", "GET"): api_agent(),
    (API + "canned_read", "GET"): api_agent(),
    (API + "canned_create", "POST"): api_agent(
        201, body={"title": "API {role}", "shortcut": "api-{serial}", "body": "Hello"}
    ),
    (API + "canned_update", "PATCH"): api_admin(body={"title": "Renamed by {role}"}),
    (API + "canned_delete", "DELETE"): api_admin(),
    (API + "canned_fill", "GET"): api_ticket(),
    (API + "ticket_transfer", "POST"): api_ticket(
        body={"team_id": "{team_id}", "note": "API transfer by {role}"}
    ),
    (API + "rule_list", "GET"): api_admin(),
    (API + "rule_read", "GET"): api_admin(),
    (API + "rule_create", "POST"): api_admin(
        201,
        body={
            "name": "API rule {role}",
            "enabled": False,  # worlds pile up: no rule of theirs may run on every new ticket
            "trigger": "new_ticket",
            "actions": [{"type": "set_priority", "value": "high"}],
        },
    ),
    (API + "rule_update", "PATCH"): api_admin(body={"enabled": False}),
    # --- an agent's API tokens ------------------------------------------------------------
    (ACCOUNT + "api_tokens", "GET"): agent_page(),
    (ACCOUNT + "api_tokens", "POST"): agent_page(OK, body={"name": "Token of {role}"}),
    # The world's token is Alice's: nobody else finds it.
    (ACCOUNT + "revoke_token", "POST"): Entry(LOGIN, 403, 404, REDIRECT, 404),
    # --- admin: webhooks (the world's webhook is disabled: nothing is ever sent) -----------
    (WEBHOOKS + "webhook_list", "GET"): admin_page(),
    (WEBHOOKS + "webhook_create", "GET"): admin_page(),
    (WEBHOOKS + "webhook_create", "POST"): admin_page(422),  # empty form
    (WEBHOOKS + "webhook_edit", "GET"): admin_page(),
    (WEBHOOKS + "webhook_edit", "POST"): admin_page(422),
    (WEBHOOKS + "webhook_secret", "POST"): admin_page(REDIRECT),
    (WEBHOOKS + "webhook_delete", "POST"): admin_page(REDIRECT),
    # --- admin: reports --------------------------------------------------------------------
    ("responso_chat.reports.report_page", "GET"): admin_page(),
    ("responso_chat.reports.report_csv", "GET"): admin_page(),
    # --- websockets --------------------------------------------------------------------------
    ("responso_chat.ws.visitor", "GET"): Entry(403, 101, 403, 403, 403, auth="websocket"),
    ("responso_chat.ws.agent", "GET"): Entry(403, 403, 101, 101, 101, auth="websocket"),
}


def build_world(serial: int) -> dict:
    """Fresh rows every entry is requested against (inside an app context): a chat of
    Alice's with a ticket (tagged, with a linked task and a cached order of its customer), a
    contact, an automation rule and a team. Returns the URL values by variable name, plus
    ``visitor_token`` (of the ticket) ``tag`` (the ticket's tag)
    and ``serial``. ``serial`` keeps names unique between worlds."""
    state = plugin_state()
    session = state.db.session
    alice = Agent("2", "Alice Agent", "alice@shop.test")
    chat = make_chat(f"World chat {serial}", agent_ids=("2",))
    customer = f"world-{serial}@customers.test"
    ticket = make_ticket(chat, f"World ticket {serial}", email=customer)
    ticket.tags.append(Tag(name=f"world-tag-{serial}"))
    session.add(
        Order(base_order_id=900000 + serial, email=customer, date_add=utcnow()
                     - timedelta(days=2), status_id=1)
    )
    session.commit()
    task = tasks.create_task(alice, title=f"World task {serial}", ticket=ticket)
    contact = contacts.create_contact(name=f"World contact {serial}",
                                      email=f"contact-{serial}@contacts.test")
    rule = rules.create_rule({
        "name": f"World rule {serial}",
        "enabled": False,  # worlds pile up: their rules must not run on every new ticket
        "trigger": "new_ticket",
        "trigger_minutes": None,
        "match": "all",
        "conditions": [],
        "actions": [{"type": "set_priority", "value": "high"}],
    })
    team = teams.create_team(f"World team {serial}", ["2"])
    webhook = webhooks.create_webhook(
        {"url": "https://hooks.example.test/world", "events": ["ticket.created"], "enabled": False}
    )
    alice_token = api_tokens.create_token("2", f"World token {serial}")[0]
    shared = CannedResponse(title=f"World reply {serial}", shortcut=f"world-{serial}",
                            body="Hello {{ customer_name }}", owner_id=None)
    session.add(shared)
    session.commit()
    message, _created = upload.post_customer_files(
        ticket, [FileStorage(io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "invoice.pdf")]
    )
    greeting = ProactiveMessage(chat_id=chat.id, text="Need help?", sender_id="2")
    session.add(greeting)
    session.commit()
    return {
        "chat_id": chat.id,
        "public_key": chat.public_key,
        "ticket_id": ticket.id,
        "task_id": task.id,
        "contact_id": contact.id,
        "rule_id": rule.id,
        "team_id": team.id,
        "order_id": 900000 + serial,
        "filename": "app.css",
        "token": signing.link_token(ticket),
        "tag": f"world-tag-{serial}",
        "serial": serial,
        "tag_id": ticket.tags[0].id,
        "seq": 1,
        "webhook_id": webhook.id,
        "proactive_id": greeting.id,
        "what": "shown",
        "token_id": alice_token.id,
        "canned_id": shared.id,
        "visitor_token": issue_token(ticket),
        "file_token": attachments.file_token(
            plugin_state().db.session.get(Attachment, message.attachment_views[0]["id"])),
    }
