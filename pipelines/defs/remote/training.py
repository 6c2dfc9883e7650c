"""``dagan_model`` with remote parties: the same training configuration, over gRPC.

The coordinator trains the generator; each party trains its own critic on its own host
(``RemoteFederation``, docs/remote_parties.md). The encoder is the version's ``global_encoder``
(built from the summaries the parties reported). The checkpoint, its training record and the
asset's metadata are those of simulated parties, with party sizes and class counts from the
parties' summaries, so synthesis and evaluation run unchanged from the saved model.
"""


import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from pipelines.contracts import model_columns
from pipelines.defs.remote.resource import RemoteParties
from pipelines.defs.training.assets import TRAINING_SUMMARY
from pipelines.defs.training.columns import generated_columns_schema
from pipelines.defs.training.config import TrainingConfig
from pipelines.defs.training.inputs import shared_encoding, summary_max_modes
from pipelines.defs.training.reports import epoch_logger, fit_metadata, history_summary
from pipelines.defs.training.resume import ResumableTraining
from pipelines.metadata import json_value
from pipelines.partitions import model_versions
from pipelines.resources.model_store import ModelStore
from pipelines.threads import compute_threads, resolve_threads

#: strategies whose party critics can each run on the party's own host
REMOTE_STRATEGIES = ("dagan", "mdgan", "swift")


def check_remote_config(config: TrainingConfig) -> None:
    """Refuse what cannot train with remote parties, naming what can.

    Raises:
        dg.Failure: another strategy, or ``batched_critics="on"``.
    """
    if config.strategy not in REMOTE_STRATEGIES:
        raise dg.Failure(
            f"strategy {config.strategy!r} cannot train with remote parties (it pools rows or "
            f"trains a generator at each party); use one of {', '.join(REMOTE_STRATEGIES)}, or "
            "simulated parties (unset DAGAN_FEDERATION_FILE)")
    if config.batched_critics == "on":
        raise dg.Failure("batched_critics='on' needs every critic in one process; remote "
                         "parties each run their own: set batched_critics to 'auto' or 'off'")


def remote_fingerprint(config: Mapping[str, Any], encoding: Mapping[str, Any],
                       endpoints: Mapping[str, str], contract: str) -> str:
    """What a resumable state belongs to: configuration, encoder, parties and contract."""
    blob = json.dumps({"config": dict(config), "encoder": encoding["encoder"],
                       "parties": list(endpoints), "contract": contract},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def remote_record(config: Mapping[str, Any], encoding: Mapping[str, Any], label: str,
                  discrete_columns: Sequence[str], columns: Sequence[str], seconds: float,
                  history: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The training record, party sizes and class counts from the parties' summaries."""
    parties = {}
    for party in encoding["parties"]:
        summary = encoding["summaries"][party]
        counts = {str(v): int(n) for v, n in summary["category_counts"][label]}
        parties[party] = {"rows": int(summary["n_rows"]), "class_counts": dict(sorted(
            counts.items()))}
    return {"strategy": config["strategy"], "config": dict(config), "label": label,
            "discrete_columns": list(discrete_columns), "columns": list(columns),
            "parties": parties, "remote": True, "training_seconds": seconds,
            "summary": history_summary(history)}


@dg.asset(
    name="dagan_model",
    partitions_def=model_versions,
    deps=[dg.AssetDep("validated_party_table", partition_mapping=dg.AllPartitionMapping())],
    ins={"global_encoder": dg.AssetIn()},
    group_name="training",
    kinds={"pytorch", "grpc"},
    owners=["team:ml"],
    tags={"privacy": "shared"},
    metadata={"dagster/column_schema": generated_columns_schema()},
    description=(
        "Multi-party GAN trained with remote parties: the generator here, each party's critic on "
        "its own host, over gRPC with mutual TLS (strategies dagan, mdgan, swift). Same "
        "configuration, checkpoint and metadata as with simulated parties; re-materializing "
        "after a crash resumes after the last epoch every side saved."
    ),
)
def dagan_model(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    global_encoder: dict,
    remote_parties: RemoteParties,
    model_store: ModelStore,
) -> dg.MaterializeResult:
    """Train the version over the remote parties its encoder was built from."""
    import dagan_core  # heavy (torch): imported at run time only

    check_remote_config(config)
    version = context.partition_key
    columns = model_columns()
    max_modes = summary_max_modes(config.max_modes, global_encoder)
    encoder, _ = shared_encoding(global_encoder)
    federation = remote_parties.remote_federation(global_encoder["parties"])
    synth = dagan_core.make_synthesizer(
        config.strategy, **{**config.hyperparameters(), "max_modes": max_modes})
    run = ResumableTraining.open(model_store, version, remote_fingerprint(
        synth.config.to_dict(), global_encoder, federation.endpoints,
        federation.contract_fingerprint))
    context.log.info(f"training {config.strategy} with remote parties "
                     f"{dict(federation.endpoints)}")
    threads = resolve_threads(config.threads)
    start = time.perf_counter()
    with compute_threads(threads):
        synth.fit(federation, label=columns.label,
                  discrete_columns=list(columns.discrete_columns), encoder=encoder,
                  on_epoch_end=epoch_logger(context.log, config.epochs),
                  checkpoint_dir=run.checkpoint_dir)
    seconds = time.perf_counter() - start
    with model_store.writing(version) as staging:
        synth.save(staging)
    record = remote_record(synth.model.config.to_dict(), global_encoder, columns.label,
                           columns.discrete_columns, encoder.schema.names, seconds,
                           synth.history)
    record["stopping"] = synth.model.stopping
    model_store.write_json(version, TRAINING_SUMMARY, record)
    run.finish()
    path = model_store.path(version)
    return dg.MaterializeResult(
        value=str(path),
        metadata={
            **fit_metadata(synth, record, path, seconds, 0 if run.resumed_after_epoch is None
                           else run.resumed_after_epoch + 1),
            "party_endpoints": json_value(dict(federation.endpoints)),
            "threads": threads,
        },
    )
