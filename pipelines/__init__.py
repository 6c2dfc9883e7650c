"""Dagster code location of dagan: landing files to DuckDB analytics."""
