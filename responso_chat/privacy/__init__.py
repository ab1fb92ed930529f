"""Privacy: a contact's data exported (a ZIP) or erased, closed tickets deleted after the
retention period, and the log of all three.

- :mod:`.scope` decides what a contact's data is (the tickets of their e-mail, any case) and
  deletes tickets with everything that points at them;
- :mod:`.export` and :mod:`.erase` are what an admin does from the contact page or the API;
- :mod:`.retention` is the periodic job of ``RESPONSO_CHAT_RETENTION_DAYS``;
- :mod:`.records` is the log (who, which contact, when, how many rows; never the data);
- :mod:`.attachments` is where attachments are exported and deleted.
"""
