"""Ingest: readers that turn files and packets into Arrow record batches of netspot's schemas.

One reader per input format (:mod:`netspot.ingest.registry`), each streaming batches in
bounded memory and sending bad records to a quarantine; :mod:`netspot.ingest.collect`
detects formats and drives readers over files and folders.
"""
