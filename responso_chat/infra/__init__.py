"""The plugin's infrastructure: background jobs and the transactional outbox that feeds them."""
