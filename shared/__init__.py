"""Heartline shared code: the one schema module, topic names and settings."""
