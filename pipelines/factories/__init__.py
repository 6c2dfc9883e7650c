"""Builders that turn committed files into Dagster definitions."""
