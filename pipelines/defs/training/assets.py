"""The trained synthesizer, one checkpoint per model version."""


import time

import dagster as dg

from pipelines.contracts import model_columns
from pipelines.defs.training.columns import generated_columns_schema
from pipelines.defs.training.config import TrainingConfig
from pipelines.defs.training.inputs import (
    apply_empty_party_policy,
    participating_tables,
    shared_encoding,
    summary_max_modes,
)
from pipelines.defs.training.reports import epoch_logger, fit_metadata, training_record
from pipelines.defs.training.resume import ResumableTraining, training_fingerprint
from pipelines.metadata import json_value
from pipelines.partitions import model_versions
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.threads import compute_threads, resolve_threads

TRAINING_SUMMARY = "training_summary"


@dg.asset(
    partitions_def=model_versions,
    deps=[dg.AssetDep("validated_party_table", partition_mapping=dg.AllPartitionMapping())],
    ins={"global_encoder": dg.AssetIn()},
    group_name="training",
    kinds={"pytorch"},
    owners=["team:ml"],
    tags={"privacy": "shared"},
    metadata={"dagster/column_schema": generated_columns_schema()},
)
def dagan_model(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    global_encoder: dict,
    party_store: PartyStore,
    model_store: ModelStore,
) -> dg.MaterializeResult:
    """Multi-party GAN trained on the validated rows of the parties the version's encoder was
    built from (``global_encoder``), with that encoder; checkpoint keyed by version.

    Training keeps an epoch checkpoint under the version's folder: re-materializing the partition
    after a crash resumes after the last finished epoch (pipelines/defs/training/resume.py).
    A party that cannot take part (``global_encoder``'s ``left_out_parties``, or a validated
    table emptied since) is handled by ``empty_party``: ``exclude`` trains the others and says
    so (a warning, ``left_out_parties`` in the metadata and the training record), ``block``
    refuses to train. With ``dp_noise_multiplier`` set, the critics train with differential
    privacy and the metadata reports the epsilon each party spent (``dp_epsilon``, per epoch
    too). ``unproducible_cells`` / ``cell_probe``: the (party, label class) cells the generator
    makes none of at the end of fit, and each cell's share of probe rows."""
    import dagan_core  # heavy (torch): imported at run time only

    version = context.partition_key
    columns = model_columns()
    max_modes = summary_max_modes(config.max_modes, global_encoder)
    encoder, summaries = shared_encoding(global_encoder)
    tables, left_out = participating_tables(party_store, global_encoder)
    apply_empty_party_policy(config.empty_party, left_out, tables, context.log)
    summaries = {p: summaries[p] for p in tables}
    synth = dagan_core.make_synthesizer(
        config.strategy, **{**config.hyperparameters(), "max_modes": max_modes})
    run = ResumableTraining.open(model_store, version, training_fingerprint(
        synth.config.to_dict(), tables, columns.label, columns.discrete_columns))
    first_epoch = 0 if run.resumed_after_epoch is None else run.resumed_after_epoch + 1
    if first_epoch:
        context.log.info(f"resuming model version {version} at epoch {first_epoch + 1} from "
                         f"{run.state_dir}")
    threads = resolve_threads(config.threads)
    context.log.info(f"training {config.strategy} on {({p: len(t) for p, t in tables.items()})} "
                     f"with {threads} thread(s)")
    start = time.perf_counter()
    with compute_threads(threads):
        synth.fit(tables, label=columns.label, discrete_columns=list(columns.discrete_columns),
                  encoder=encoder, summaries=summaries,
                  on_epoch_end=epoch_logger(context.log, config.epochs),
                  checkpoint_dir=run.checkpoint_dir)
    seconds = time.perf_counter() - start
    for cell in (synth.model.cells or {}).get("unproducible", []):
        context.log.warning(f"the generator makes no {columns.label}={cell['label_value']!r} "
                            f"rows for party {cell['party']} yet (end-of-fit probe); the release "
                            "fills them with the classes it makes and reports the shortfall")
    with model_store.writing(version) as staging:
        synth.save(staging)
    path = model_store.path(version)
    record = training_record(synth.model.config.to_dict(), tables, columns.label,
                             columns.discrete_columns, seconds, synth.history, left_out)
    record["stopping"] = synth.model.stopping
    model_store.write_json(version, TRAINING_SUMMARY, record)
    run.finish()
    return dg.MaterializeResult(
        value=str(path),
        metadata={
            **fit_metadata(synth, record, path, seconds, first_epoch),
            "parties_trained": json_value(list(record["parties"])),
            "left_out_parties": json_value(left_out),
            "empty_party": config.empty_party,
            "threads": threads,
        },
    )
