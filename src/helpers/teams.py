"""The teams a support ticket can be routed to: one list for the whole course (the model's labels
and the ticket service's allowed values are the same five teams)."""

TEAMS = ("technical", "billing", "access", "integrations", "sales")
