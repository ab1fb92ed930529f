"""Orders from Base: the API client, the sync of a ticket's orders, the side panel's data."""
