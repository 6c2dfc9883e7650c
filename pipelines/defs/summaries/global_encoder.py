"""The shared schema and encoder of one model version, merged from the party summaries."""


from collections.abc import Mapping
from typing import Any

import dagster as dg
import pandas as pd

from dagan_core.data.encoder import TableEncoder
from dagan_core.data.summary import PartySummary
from dagan_core.prepare import agree_schema
from dagan_core.profiling import PartyProfile, profile_parties
from pipelines.contracts import model_columns
from pipelines.defs.summaries.metadata import PROFILE_SCHEMA, cross_party_metadata
from pipelines.defs.summaries.participation import split_summaries
from pipelines.metadata import json_value, md_table
from pipelines.partitions import model_versions, party_partitions


def summary_settings(summaries: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
    """The ``max_modes`` and ``seed`` every summary was made with.

    Raises:
        dg.Failure: if there is no summary, or two parties summarised with different settings.
    """
    if not summaries:
        raise dg.Failure("no party has a summary yet; materialize party_summary for each party")
    settings = {(int(s["max_modes"]), int(s["seed"])) for s in summaries.values()}
    if len(settings) > 1:
        by_party = {p: (s["max_modes"], s["seed"]) for p, s in sorted(summaries.items())}
        raise dg.Failure(f"parties summarised with different (max_modes, seed): {by_party}; "
                         "rematerialize party_summary for every party with one config")
    return settings.pop()


def build_global_encoder(summaries: Mapping[str, Mapping[str, Any]], label: str,
                         registered: list[str] | None = None) -> dict[str, Any]:
    """The encoder built from the summaries alone, with the parties and summaries it used and
    the parties it left out (``left_out``: party -> reason).

    Raises:
        dg.Failure: if no party can take part (each one's reason in the message).
    """
    max_modes, seed = summary_settings(summaries)
    summaries, left_out = split_summaries(summaries, registered or [])
    if not summaries:
        raise dg.Failure("no party can take part in training: " + "; ".join(
            f"party {p!r}: {r}" for p, r in left_out.items()))
    parties = sorted(summaries)
    schema = agree_schema(
        {p: {c: tuple(v) for c, v in summaries[p]["declaration"].items()} for p in parties}, label
    )
    party_summaries = [PartySummary.from_dict(summaries[p]["summary"]) for p in parties]
    encoder = TableEncoder.from_summaries(schema, party_summaries, max_modes, seed)
    return {
        "parties": parties,
        "max_modes": max_modes,
        "seed": seed,
        "encoder": encoder.to_dict(),
        "summaries": {s.party: s.to_dict() for s in party_summaries},
        "left_out": left_out,
    }


def _registered_parties(context: dg.AssetExecutionContext) -> list[str]:
    """The parties known to the instance (empty when none is, as in a direct invocation)."""
    try:
        return list(context.instance.get_dynamic_partitions(party_partitions.name))
    except Exception:  # noqa: BLE001 - a context without an instance knows no parties
        return []


def left_out_metadata(left_out: Mapping[str, str]) -> dict[str, Any]:
    """The parties left out and why, as a JSON value and a table (empty table when none)."""
    table = pd.DataFrame(sorted(left_out.items()), columns=["party", "reason"])
    return {"left_out_parties": json_value(dict(left_out)),
            "left_out_parties_table": md_table(table)}


@dg.asset(
    partitions_def=model_versions,
    group_name="encoding",
    ins={
        "party_summary": dg.AssetIn(
            partition_mapping=dg.AllPartitionMapping(),
            # a party whose table failed its contract has no summary; encode the others
            metadata={"allow_missing_partitions": True},
        )
    },
    kinds={"pandas"},
    owners=["team:ml"],
    tags={"privacy": "counts-only"},
    metadata={"dagster/column_schema": PROFILE_SCHEMA},
    description=(
        "The shared schema and encoder of one model version, built from the party summaries "
        "only (category vocabularies, merged mixtures); the parties it lists are the ones the "
        "version trains on; left_out_parties names the parties that cannot take part (no "
        "valid rows, a column with no value, no summary) and why. Metadata: the imbalance "
        "across parties (size ratio, label Jensen-Shannon divergence, classes a party lacks "
        "or holds alone)."
    ),
)
def global_encoder(
    context: dg.AssetExecutionContext, party_summary: dict[str, dict[str, Any]]
) -> dg.Output[dict[str, Any]]:
    """Merge the summaries of every party that has one."""
    label = model_columns().label
    value = build_global_encoder(party_summary, label, _registered_parties(context))
    for party, reason in value["left_out"].items():
        context.log.warning(f"party {party} is left out of the encoder: {reason}")
    cross = profile_parties({p: PartyProfile(**dict(party_summary[p]["profile"]))
                             for p in value["parties"]})
    width = TableEncoder.from_dict(value["encoder"]).layout.data_dim
    context.log.info(f"encoder of {len(value['parties'])} parties, width {width}, "
                     f"size ratio {cross.size_ratio:.2f}")
    return dg.Output(value, metadata={
        "parties_json": json_value(value["parties"]),
        **left_out_metadata(value["left_out"]),
        "encoded_width": width,
        "max_modes": value["max_modes"],
        **cross_party_metadata(cross),
    })
