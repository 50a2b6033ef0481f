"""Readers whose records become the ``dns``-type data."""
