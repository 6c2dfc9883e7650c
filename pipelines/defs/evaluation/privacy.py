"""The ``synthetic_privacy`` check of a model version's synthetic rows, read off the privacy
report the evaluation computes (``metrics.privacy``), so the report is computed once.

Distance to closest record (DCR) and exact copies, synthetic rows against unseen real rows: a
synthetic table whose rows sit closer to the training rows than fresh real rows do, or copy them
more often, reproduces training rows rather than their distribution. The membership-inference
AUC of the same rows is reported alongside (dagan_core.metrics.membership).

Training rows are the parties' validated rows, read by the evaluation asset for evaluation only;
unseen rows are the real test set. Only the distances' summary leaves the step.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.metadata import json_value

CHECK_NAME = "synthetic_privacy"
CHECK_DESCRIPTION = (
    "Warns when the version's synthetic rows sit closer to the training rows (the parties' "
    "validated rows) than unseen real rows (the evaluation's test set, DAGAN_TEST_SET unless "
    "configured) do: 5th percentile of the distance to the closest training row, and exact-copy "
    "rate. Also reports the membership-inference AUC. Never blocks."
)


def privacy_check_spec(asset: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetCheckSpec:
    """The check's spec on the evaluation asset: non-blocking, partitioned like the asset so each
    model version has its own verdict."""
    return dg.AssetCheckSpec(
        CHECK_NAME,
        asset=asset,
        blocking=False,
        description=CHECK_DESCRIPTION,
        partitions_def=partitions_def,
    )


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
    version: str, report: Mapping[str, float], holdout_path: Path, training_rows: int
) -> dg.AssetCheckResult:
    """Passes, or warns (never blocks) with the reasons, for one model version's privacy report
    (``dagan_core.metrics.privacy_report`` output)."""
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
        "training_rows": int(training_rows),
        **{k: float(v) for k, v in report.items()},
        "findings": json_value(findings),
    }
    return dg.AssetCheckResult(
        check_name=CHECK_NAME,
        passed=not findings,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata=metadata,
    )
