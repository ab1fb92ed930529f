"""The plugin's vocabulary: every fixed set of values a column, a form or a rule may hold.

Each set is defined once, here; the models' check constraints, the schemas, the services and
the pages all read it from this module. Where the pages show a value in words, the set is a
``value -> label`` mapping and the tuple of values is taken from it.
"""

from __future__ import annotations

# --- Chats ----------------------------------------------------------------------------------

CHAT_ALIGNMENTS = ("left", "right")
PATH_RULE_TYPES = ("whitelist", "blacklist")
OUT_OF_HOURS_BEHAVIOURS = ("show_message", "hide_widget")

#: The languages the widget speaks and the classifier recognises, with their names.
LANGUAGE_LABELS = {"en": "English", "fr": "French", "pl": "Polish"}
LANGUAGES = tuple(LANGUAGE_LABELS)
#: A chat's widget language: "auto" lets the visitor's browser choose among :data:`LANGUAGES`.
AUTO_LANGUAGE = "auto"
CHAT_LANGUAGES = (AUTO_LANGUAGE, *LANGUAGES)
CHAT_LANGUAGE_LABELS = {AUTO_LANGUAGE: "Automatic (the visitor's browser)", **LANGUAGE_LABELS}

# --- Tickets and messages -------------------------------------------------------------------

TICKET_STATUSES = ("open", "pending", "solved", "closed", "spam")
#: The statuses of a ticket still being worked on (the inbox's "unfinished" views).
UNFINISHED_STATUSES = ("open", "pending")
#: The statuses of a ticket whose work is done (the inbox's "closed" view).
FINISHED_STATUSES = ("solved", "closed")
#: The statuses in which the conversation is over for the customer (they start a new one).
ENDED_STATUSES = (*FINISHED_STATUSES, "spam")
TICKET_PRIORITIES = ("low", "normal", "high", "urgent")
AUTHOR_KINDS = ("customer", "agent", "system", "automation")
#: Where a message came from, when not typed in the widget, the inbox or the API: a
#: customer's answer read from the shop's mailbox, or the proactive greeting a chat began with.
MESSAGE_SOURCES = ("email", "greeting")
#: Where a ticket came from, with the words the side panel's "Inbox" shows.
TICKET_CHANNEL_LABELS = {"chat": "Chat", "email": "E-mail"}
TICKET_CHANNELS = tuple(TICKET_CHANNEL_LABELS)
SENTIMENTS = ("positive", "neutral", "negative")
#: What a customer's message is about, as the classifier tells it.
CONTEXT_LABELS = {
    "order_status": "Order status",
    "shipping": "Shipping",
    "return": "Return",
    "complaint": "Complaint",
    "payment": "Payment",
    "product_question": "Product question",
    "other": "Other",
}
CONTEXTS = tuple(CONTEXT_LABELS)

#: An agent's availability as they set it in the inbox, with its label.
AGENT_AVAILABILITY = {"online": "Online", "away": "Away", "offline": "Offline"}

# --- Inbox ----------------------------------------------------------------------------------

#: The inbox's views and their labels, in the order the inbox shows them.
INBOX_VIEWS = {
    "all": "All",
    "to_handle": "To handle",
    "mine": "My open",
    "awaiting": "Awaiting response",
    "closed": "Closed",
}

# --- Ratings ---------------------------------------------------------------------------------

#: The scores a customer rates a conversation with (1 = bad, 5 = very good).
RATING_SCORES = (1, 2, 3, 4, 5)
#: Longest comment of a rating, in characters.
RATING_COMMENT_MAX = 1000

# --- E-mail ---------------------------------------------------------------------------------

#: How a connection to a mail server is protected.
MAIL_SECURITY_LABELS = {
    "starttls": "STARTTLS",
    "tls": "TLS from the start (SMTPS / IMAPS)",
    "none": "None (local servers only)",
}
MAIL_SECURITY = tuple(MAIL_SECURITY_LABELS)
#: What an e-mail of the plugin is: sent (``new_ticket`` ... ``test``, ``code``: a customer's
#: one-time code for "My orders") or received (``reply``).
MAIL_KINDS = ("new_ticket", "unseen", "transcript", "notify", "test", "reply", "code")
#: Where an e-mail stands: waiting for SMTP, sent, failed for good, received, or left alone.
MAIL_STATES = ("queued", "sent", "failed", "received", "ignored")

# --- Orders in the widget -------------------------------------------------------------------

#: What a customer asks about one of their orders from the widget's "My orders".
ORDER_REQUEST_LABELS = {
    "ask": "Question about the order",
    "cancel": "Cancel the order",
    "return": "Return the order",
}
ORDER_REQUESTS = tuple(ORDER_REQUEST_LABELS)

# --- Automations and webhooks ---------------------------------------------------------------

TRIGGER_LABELS = {
    "new_ticket": "New ticket (first customer message)",
    "customer_message": "Every new customer message",
    "status_changed": "Status changed",
    "no_agent_reply": "No agent reply within N minutes",
}
AUTOMATION_TRIGGERS = tuple(TRIGGER_LABELS)
AUTOMATION_MATCH = ("all", "any")

WEBHOOK_EVENT_LABELS = {
    "ticket.created": "Ticket created",
    "message.created": "Message created",
    "ticket.status_changed": "Ticket status changed",
    "ticket.assigned": "Ticket assigned",
    "ticket.rated": "Ticket rated by the customer",
}
WEBHOOK_EVENTS = tuple(WEBHOOK_EVENT_LABELS)

# --- Canned responses ---------------------------------------------------------------------

#: The variables of a canned response (``{{ customer_name }}``), with what each one holds.
CANNED_VARIABLE_LABELS = {
    "customer_name": "The customer's name",
    "agent_name": "Your name (the agent who uses the response)",
    "order_number": "The number of the customer's last order (from Base)",
    "order_status": "That order's status, as the customer reads it",
    "tracking_link": "That order's parcel tracking link",
    "chat_name": "The name of the chat",
}
CANNED_VARIABLES = tuple(CANNED_VARIABLE_LABELS)
