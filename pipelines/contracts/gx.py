"""Running contract rules with Great Expectations.

This is the only module that imports ``great_expectations``, and it does so inside functions: the
import takes seconds and Dagster must be able to load the definitions without paying for it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd


def _import_gx():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    _quiet_gx_logs()
    return gx


def _quiet_gx_logs() -> None:
    """GX logs its set-up at INFO ("Created temporary directory ... for ephemeral docs site", one
    per context), some of its modules with a level of their own: noise in every run log. Its
    warnings and errors still show."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations."):
            log = logging.getLogger(name)
            if 0 < log.level < logging.WARNING:
                log.setLevel(logging.WARNING)


class GxContext:
    """One ephemeral GX context; its suites are run on one frame (chunk) after another."""

    def __init__(self) -> None:
        gx = _import_gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        self._batch = (
            self._context.data_sources.add_pandas("party_tables")
            .add_dataframe_asset("party_table")
            .add_batch_definition_whole_dataframe("whole_table")
        )
        self._definitions: dict[str, Any] = {}
        #: per suite: GX's id of each expectation -> the caller's key for it
        self.keys: dict[str, dict[str, int]] = {}

    def add(self, name: str, expectations: Mapping[int, dict[str, Any]], meta: Any) -> None:
        """Add a suite of ``{key: expectation}``; results of :meth:`run` come with the keys."""
        gx = self._gx
        suite = self._context.suites.add(
            gx.ExpectationSuite(name=name, expectations=list(expectations.values()), meta=meta)
        )
        self.keys[name] = {
            exp.id: key for exp, key in zip(suite.expectations, expectations, strict=True)
        }
        self._definitions[name] = self._context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{name}_validation", data=self._batch, suite=suite)
        )

    def run(self, name: str, frame: pd.DataFrame) -> list[tuple[int, Any]]:
        """``(key, GX outcome)`` of each rule of suite ``name`` on ``frame``."""
        report = self._definitions[name].run(
            batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"}
        )
        keys = self.keys[name]
        return [(keys[outcome.expectation_config.id], outcome) for outcome in report.results]
