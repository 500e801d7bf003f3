"""The web chat (see issue 3)."""
