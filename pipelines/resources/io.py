"""The IO manager of asset values (profiles, small summaries), under DAGAN_VAR_DIR/io.

Like the other resources, it reads its folder from the settings when a run starts, not when the
definitions are imported, so a process that moves DAGAN_VAR_DIR after importing them (a test, a
long-lived tool) writes and reads in one place.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import Field

from pipelines import settings


class VarFilesystemIOManager(dg.ConfigurableIOManagerFactory):
    """Pickled asset values in ``<base_dir>/<asset key>/<partition>``."""

    base_dir: str | None = Field(
        default=None, description="Folder of the values; default: DAGAN_VAR_DIR/io."
    )

    def create_io_manager(self, context: dg.InitResourceContext) -> Any:
        folder = self.base_dir or str(settings.io_dir())
        return dg.FilesystemIOManager(base_dir=folder).create_io_manager(context)
