"""E-mail continuity: outgoing mail by SMTP, incoming mail by IMAP, one ticket for both.

- :mod:`.settings`: the SMTP and IMAP settings (app configuration, overridden by what an admin
  stores on "Integrations → E-mail"; passwords are write-only) and the mailbox's status.
- :mod:`.signing`: the signed reply address and the signed link back into the chat.
- :mod:`.compose`: an e-mail for a ticket (plain text and HTML, the customer's language,
  threading headers).
- :mod:`.outgoing`: what goes out, as outbox jobs, and the SMTP delivery with retries.
- :mod:`.parsing` and :mod:`.incoming`: reading a received mail and putting it on its ticket;
  the periodic IMAP poll.
"""
