"""Readers whose records become the ``event``-type data."""
