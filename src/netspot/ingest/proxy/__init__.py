"""Readers whose records become the ``proxy``-type data."""
