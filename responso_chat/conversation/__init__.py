"""The conversation core: what happens between a customer and the agents, outside any view."""
