"""The agents' inbox: ticket queries and paging, contacts, tasks and teams."""
