"""Dagster resources of the dagan pipeline.

Resource keys used by the definitions: ``party_store`` (:class:`PartyStore`) and ``landing``
(:class:`LandingArea`).
"""

from pipelines.resources.landing import FileRows, LandingArea
from pipelines.resources.party_store import PartyStore, check_party_name

__all__ = ["FileRows", "LandingArea", "PartyStore", "check_party_name"]
