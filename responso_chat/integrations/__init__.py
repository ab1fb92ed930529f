"""What other systems use: the REST API's operations, API tokens and webhooks."""
