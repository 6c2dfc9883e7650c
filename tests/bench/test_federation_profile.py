"""The federation epoch breakdown counts each round once and leaves a non-negative rest."""

from __future__ import annotations

from bench.federation_profile import StepProfile
from dagan_core import make_synthesizer
from tests.conftest import TINY, three_parties


def test_rounds_are_counted_once_per_step():
    synth = make_synthesizer("dagan", **{**TINY, "epochs": 1})
    run = synth.begin_fit(three_parties(), label="y")
    profile = StepProfile(run.trainer.transport)
    stats = run.run_epoch()
    profile.close()
    steps = run._steps
    report = profile.report(1, stats.seconds)
    assert report["rounds_per_epoch"] == {"ConditionRequest": 2 * steps, "CriticStep": steps,
                                          "GeneratorStep": steps, "FitProbe": 1, "FitFakes": 1}
    assert 0 <= report["coordinator_compute_s_per_epoch"] <= stats.seconds
