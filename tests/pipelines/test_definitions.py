"""The code location loads, with the expected assets, jobs, schedule, sensors and resources."""

import subprocess
import sys
from datetime import UTC, datetime

import dagster as dg
import pytest

from pipelines.definitions import defs
from pipelines.defs.automation import weekly_retraining, weekly_version
from pipelines.defs.training.config import DEMO_EPOCHS, RUN_FIELDS, TrainingConfig
from pipelines.partitions import model_versions


def test_definitions_are_loadable() -> None:
    dg.Definitions.validate_loadable(defs)


def test_asset_keys_and_groups() -> None:
    graph = defs.resolve_asset_graph()
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    for key, group in {
        "dagan_model": "training",
        "synthetic_table": "synthesis",
        "utility_metrics": "evaluation",
        "marts/class_balance": "analytics",
        "marts/utility_leaderboard": "analytics",
        "marts/column_fidelity": "analytics",
        "validated_party_table": "ingest",
        "party_summary": "summaries",
        "global_encoder": "encoding",
    }.items():
        assert groups.get(key) == group, key
    for key in ("global_encoder", "dagan_model", "synthetic_table", "utility_metrics"):
        assert graph.get(dg.AssetKey(key)).partitions_def == model_versions


def test_the_lineage_has_no_dead_end() -> None:
    """Every asset feeds another, except the analysts' SQL models at the end of the flow."""
    graph = defs.resolve_asset_graph()
    dead_ends = sorted(
        key.to_user_string() for key in graph.get_all_asset_keys()
        if not graph.get(key).child_keys and graph.get(key).group_name != "analytics"
    )
    assert dead_ends == []


def test_the_model_is_built_from_summaries_and_encoder() -> None:
    graph = defs.resolve_asset_graph()
    parents = {k.to_user_string(): {p.to_user_string() for p in graph.get(k).parent_keys}
               for k in graph.get_all_asset_keys()}
    assert parents["party_summary"] == {"validated_party_table"}
    assert parents["global_encoder"] == {"party_summary"}
    assert {"global_encoder", "validated_party_table"} <= parents["dagan_model"]


def test_jobs_schedule_sensors_resources() -> None:
    repo = defs.get_repository_def()
    jobs = {j.name for j in repo.get_all_jobs()}
    assert {"training_job", "analytics_job", "ingest_job"} <= jobs
    assert repo.get_job("training_job").partitions_def == model_versions
    assert {s.name for s in repo.schedule_defs} >= {"weekly_retraining"}
    assert {s.name for s in repo.sensor_defs} >= {"analytics_after_training", "party_sensor"}
    schedule = repo.get_schedule_def("weekly_retraining")
    assert schedule.cron_schedule == "0 3 * * 1"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert {"party_store", "landing", "warehouse", "model_store", "io_manager"} <= set(
        repo.get_top_level_resources()
    )


def test_weekly_schedule_adds_a_version_and_requests_it() -> None:
    with dg.instance_for_test() as instance:
        when = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=when,
            repository_def=defs.get_repository_def(),
        )
        data = weekly_retraining.evaluate_tick(context)
        (request,) = data.run_requests
        assert request.partition_key == weekly_version(when) == "weekly-2026-11-23"
        assert instance.get_dynamic_partitions("model_versions") == ["weekly-2026-11-23"]
        weekly_retraining.evaluate_tick(context)  # a second evaluation adds nothing
        assert instance.get_dynamic_partitions("model_versions") == ["weekly-2026-11-23"]


def test_training_config_maps_one_to_one_to_dagan_core() -> None:
    from dagan_core import SynthesizerConfig

    fields = set(TrainingConfig.model_fields) - RUN_FIELDS
    assert fields == set(SynthesizerConfig.hyperparameter_names())
    ours = TrainingConfig()
    base = SynthesizerConfig.from_flat("dagan").to_flat()
    for name, value in base.items():
        mine = getattr(ours, name)
        if name == "epochs":
            assert mine == DEMO_EPOCHS
        elif mine is not None:
            assert (tuple(mine) if isinstance(mine, list) else mine) == value, name
    # fields a strategy preset changes must default to None, so the preset decides
    for strategy in ("mdgan", "swift", "fedsyn", "local", "centralized"):
        preset = SynthesizerConfig.from_flat(strategy).to_flat()
        for name in (n for n in base if preset[n] != base[n]):
            assert TrainingConfig.model_fields[name].default is None, (strategy, name)
        assert TrainingConfig(strategy=strategy).synthesizer_config().to_flat() == {
            **preset,
            "epochs": DEMO_EPOCHS,
        }


def test_loading_definitions_imports_no_heavy_library() -> None:
    code = (
        "import sys, warnings; warnings.simplefilter('ignore');"
        "import pipelines.definitions;"
        "print(sorted(m for m in ('torch', 'great_expectations', 'sklearn', 'matplotlib')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("module", ["pipelines.definitions"])
def test_workspace_points_at_the_definitions(module: str) -> None:
    from pipelines import settings

    text = (settings.REPO_ROOT / "workspace.yaml").read_text()
    assert f"module_name: {module}" in text


def test_strategy_choices_match_dagan_core() -> None:
    from typing import get_args

    from dagan_core import STRATEGIES
    from pipelines.defs.training.config import Strategy

    assert set(get_args(Strategy)) == set(STRATEGIES)
