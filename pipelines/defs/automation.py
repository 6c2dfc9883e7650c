"""Jobs, the weekly retraining schedule and the sensor that refreshes analytics after training."""

from datetime import datetime

import dagster as dg

from pipelines.partitions import model_versions

TRAINING_GROUPS = ("encoding", "training", "synthesis", "evaluation")

training_job = dg.define_asset_job(
    "training_job",
    selection=dg.AssetSelection.groups(*TRAINING_GROUPS),
    description="Build one model version's encoder from the party summaries, train it, publish "
    "its synthetic rows and score them (partitioned by model_versions, inferred from the "
    "selected assets).",
)

analytics_job = dg.define_asset_job(
    "analytics_job",
    selection=dg.AssetSelection.groups("analytics"),
    description="Rebuild every SQL model of dbt_like_sql/ in the warehouse.",
)


def weekly_version(when: datetime) -> str:
    """Model version key of a scheduled retraining, e.g. ``weekly-2026-11-23``."""
    return f"weekly-{when:%Y-%m-%d}"


@dg.schedule(
    cron_schedule="0 3 * * 1",
    job=training_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every Monday 03:00 UTC: add a model version weekly-<date> and train it; older "
    "versions (checkpoints, synthetic rows, metrics) are kept.",
)
def weekly_retraining(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Registers the week's model version, then requests a training run for it."""
    version = weekly_version(context.scheduled_execution_time)
    # Schedules cannot return dynamic-partition requests, so the key is added here (idempotent).
    if not context.instance.has_dynamic_partition(model_versions.name, version):
        context.instance.add_dynamic_partitions(model_versions.name, [version])
    return dg.RunRequest(run_key=version, partition_key=version, tags={"dagan/trigger": "weekly"})


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[training_job],
    request_job=analytics_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Rebuilds the analysts' SQL models after every successful training run.",
)
def analytics_after_training(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    """One analytics run per successful training run."""
    return dg.RunRequest(run_key=context.dagster_run.run_id)


defs = dg.Definitions(
    jobs=[training_job, analytics_job],
    schedules=[weekly_retraining],
    sensors=[analytics_after_training],
)
