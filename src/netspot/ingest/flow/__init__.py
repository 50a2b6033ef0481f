"""Readers whose records become the ``flow``-type data."""
