"""The privacy check of a model version's synthetic rows (the work behind the asset check).

Distance to closest record (DCR) and exact copies, synthetic rows against unseen real rows: a
synthetic table whose rows sit closer to the training rows than fresh real rows do, or copy them
more often, reproduces training rows rather than their distribution. The membership-inference
AUC of the same rows is reported alongside (dagan_core.metrics.membership).

Training rows are the parties' validated rows, read here for evaluation only (like the evaluation
asset): only the distances' summary leaves this step. Unseen rows are the real test set.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.defs.synthesis.tables import KEY, SCHEMA, TABLE
from pipelines.defs.training.assets import TRAINING_SUMMARY
from pipelines.metadata import json_value
from pipelines.resources.model_store import ModelStore
from pipelines.resources.party_store import PartyStore
from pipelines.resources.warehouse import Warehouse

CHECK_NAME = "synthetic_privacy"
#: Training rows the nearest-neighbour index holds at most (a seeded subsample beyond it).
MAX_TRAIN_ROWS = 50_000


def privacy_findings(report: Mapping[str, float]) -> list[str]:
    """Why the synthetic rows look too close to the training rows (empty: they do not)."""
    findings = []
    synth_p5, holdout_p5 = report["dcr_synth_p5"], report["dcr_holdout_p5"]
    if synth_p5 < holdout_p5:
        findings.append(
            f"synthetic rows sit closer to training rows than unseen real rows do "
            f"(DCR 5th percentile {synth_p5:.4f} < {holdout_p5:.4f})"
        )
    copies, baseline = report["exact_copy_rate_synth"], report["exact_copy_rate_holdout"]
    if copies > baseline:
        findings.append(
            f"{copies:.2%} of synthetic rows copy a training row exactly, more than the "
            f"{baseline:.2%} of unseen real rows that do"
        )
    return findings


def privacy_check_result(
    version: str,
    model_store: ModelStore,
    party_store: PartyStore,
    warehouse: Warehouse,
    holdout_path: Path,
    seed: int = 0,
) -> dg.AssetCheckResult:
    """Passes, or warns (never blocks) with the reasons, for one model version."""
    from dagan_core.metrics import privacy_report  # scikit-learn: imported at run time only

    # the evaluation domain imports this package: import its readers at run time
    from pipelines.defs.evaluation.tables import cap_rows, pooled_real_rows, read_test_set

    record = model_store.read_json(version, TRAINING_SUMMARY)
    synthetic = warehouse.read_partition(TABLE, KEY, version, schema=SCHEMA).drop(columns=[KEY])
    train = cap_rows(pooled_real_rows(party_store, list(record["parties"])), MAX_TRAIN_ROWS, seed)
    holdout = read_test_set(holdout_path, record["columns"])
    report = privacy_report(train, synthetic, holdout, record["discrete_columns"], seed=seed)
    findings = privacy_findings(report)
    if findings:
        description = f"model version {version!r}: " + "; ".join(findings)
    else:
        description = (
            f"model version {version!r}: synthetic rows are no closer to the training rows than "
            f"unseen real rows (DCR 5th percentile {report['dcr_synth_p5']:.4f} >= "
            f"{report['dcr_holdout_p5']:.4f}, exact copies {report['exact_copy_rate_synth']:.2%})"
        )
    metadata: dict[str, Any] = {
        "model_version": version,
        "holdout": dg.MetadataValue.path(str(holdout_path)),
        "training_rows": len(train),
        **{k: float(v) for k, v in report.items()},
        "findings": json_value(findings),
    }
    return dg.AssetCheckResult(
        passed=not findings,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )
