"""Insights for the helpdesk and content team: reading the stored conversations, the figures, the report."""
