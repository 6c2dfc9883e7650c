"""Parties on their own hosts: the federation file, certificates, and the party's own side
(ingest of its landing files with the pipeline's contract, then serving its critic)."""
