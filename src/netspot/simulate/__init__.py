"""Synthetic network data with ground truth, in the input formats netspot reads.

:mod:`netspot.simulate.sample` writes a small sample day (the data behind ``netspot demo``);
each file is in a real format that the readers and the reference tools (nfdump, tshark)
read unchanged.
"""
