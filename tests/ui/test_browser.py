"""The Dagster UI as a person uses it, in headless Chromium driven by Playwright.

1. The demo pipeline runs headless on a small landing area (3 parties x 300 rows, 3 epochs of
   small networks) into a fresh DAGSTER_HOME, so every asset has a materialization with plots.
2. ``dagster dev`` serves that DAGSTER_HOME on a free port.
3. In the browser: open the asset graph and its lineage from landing files to the model (party
   summaries and the global encoder between ingest and training); filter it to the summaries
   group, select ``party_summary``, Materialize selected -> partition dialog (party_0) -> Launch
   1 run, follow the run to success; then open the model, synthetic-table and utility assets and
   check that every plot image loads (``naturalWidth > 0``).

Screenshots go to ``test-artifacts/ui/`` (gitignored), with the ``dagster dev`` log; a failure
leaves ``failure.png`` there, the page as it was. Waits are generous (a loaded machine). The test is
skipped only when no Chromium is installed (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "demo"
ARTIFACTS = REPO / "test-artifacts" / "ui"
CHROMIUM = Path(os.environ.get("DAGAN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
#: Waits sized for a loaded machine (other processes busy on the cores): a locator's wait, the
#: start of ``dagster dev``, the UI-launched run.
DEFAULT_WAIT_MS = 120_000
UI_START_S = 480
RUN_S = 600
PARTIES = {"party_0": 300, "party_1": 300, "party_2": 300}
VERSION = "ui"
SEED_TRAINING = {
    "epochs": 3, "batch_size": 100, "generator_dims": [64], "critic_dims": [64],
    "embedding_dim": 16, "pac": 5,
}
SEED_EVALUATION = {"models": ["lr", "dt"], "max_rows": 2000}
#: Plots checked on each asset page: asset -> metadata entries holding an image.
PLOTS = {
    "dagan_model": ["loss_curves", "attention_weights"],
    "synthetic_table": ["class_mix_plot", "column_histograms"],
    "utility_metrics": ["utility_plot"],
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.is_file(),
        reason=f"no Chromium at {CHROMIUM} (install Debian's chromium: apt-get install chromium)",
    ),
    pytest.mark.skipif(not (DEMO / "landing").is_dir(), reason="demo data missing"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, chars: int = 4000) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else "(no log)"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A DAGSTER_HOME and DAGAN_VAR_DIR holding one headless run of the whole demo pipeline."""
    root = tmp_path_factory.mktemp("ui")
    landing = root / "landing"
    for party, n in PARTIES.items():
        source = next((DEMO / "landing" / party).glob("*.csv"))
        (landing / party).mkdir(parents=True)
        pd.read_csv(source, nrows=n).to_csv(landing / party / f"{party}.csv", index=False)
    test_set = root / "test.csv"
    pd.read_csv(DEMO / "reference" / "adult_test.csv", nrows=500).to_csv(test_set, index=False)
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    paths = {"root": root, "landing": landing, "test_set": test_set, "home": home,
             "var": root / "var"}
    env = {**os.environ, **_env(paths), "DAGAN_LANDING_DIR": str(landing)}
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # only this run's screenshots and logs
    ARTIFACTS.mkdir(parents=True)
    log = ARTIFACTS / "seed-demo.log"
    with log.open("w") as out:
        done = subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "demo", "--version", VERSION,
             "--epochs", str(SEED_TRAINING["epochs"]), "--dagster-home", str(home),
             "--training-config", json.dumps(SEED_TRAINING),
             "--evaluation-config", json.dumps(SEED_EVALUATION), "--no-queries"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=900, check=False,
        )
    assert done.returncode == 0, f"seeding the demo failed:\n{_tail(log)}"
    return paths


def _env(paths: dict[str, Path]) -> dict[str, str]:
    return {
        "DAGSTER_HOME": str(paths["home"]),
        "DAGAN_VAR_DIR": str(paths["var"]),
        "DAGAN_TEST_SET": str(paths["test_set"]),
        "GX_ANALYTICS_ENABLED": "false",
    }


@pytest.fixture(scope="module")
def dagster_ui(seeded: dict[str, Path]) -> Iterator[str]:
    """``dagster dev`` on the seeded instance; yields its base URL and always stops it."""
    port = _free_port()
    # The UI run below must be the only run: with the demo's landing area the party sensor
    # (running by default) would start ingest runs of its own, so the server sees an empty one.
    empty_landing = seeded["root"] / "empty_landing"
    empty_landing.mkdir(exist_ok=True)
    env = {**os.environ, **_env(seeded), "DAGAN_LANDING_DIR": str(empty_landing)}
    dagster = Path(sys.executable).with_name("dagster")
    log_path = ARTIFACTS / "dagster-dev.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        ["setsid", "env", "--default-signal=INT,TERM", str(dagster), "dev",
         "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + UI_START_S
        while True:
            if process.poll() is not None:
                raise AssertionError(f"dagster dev exited early:\n{_tail(log_path)}")
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"dagster dev did not answer in {UI_START_S} s:\n{_tail(log_path)}")
            time.sleep(1)
        yield url
    finally:
        _stop(process)
        log.close()


def _stop(process: subprocess.Popen) -> None:
    """Stop dagster dev and everything it started (its own process group)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGINT)
            process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # whatever outlived the interrupt
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def page(dagster_ui: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1600, "height": 1000})
            tab.set_default_timeout(DEFAULT_WAIT_MS)
            # First visit: Dagster asks to join its community; a person would skip it.
            tab.add_locator_handler(
                tab.get_by_text("Join the Dagster community"), lambda: _press_skip(tab),
            )
            yield tab
        finally:
            browser.close()


def _press_skip(page) -> None:
    """Skip the community prompt if it is still there: the handler and
    :func:`_skip_community_dialog` may both go for it, and a click on a prompt the other one
    already dismissed must not wait for a button that is gone."""
    from playwright.sync_api import Error as PlaywrightError

    skip = page.get_by_role("button", name="Skip")
    try:
        if skip.is_visible():
            skip.click(timeout=10_000, no_wait_after=True)
    except PlaywrightError:  # gone between the check and the click: dismissed already
        pass


def _shot(page, name: str) -> Path:
    path = ARTIFACTS / name
    page.screenshot(path=str(path), animations="disabled")  # no half-faded dialogs
    return path


def test_launch_from_the_ui_and_see_the_plots(page, dagster_ui: str,
                                               seeded: dict[str, Path]) -> None:
    started = time.monotonic()
    try:
        _check_lineage(page, dagster_ui)
        run_id = _materialize_party_summary(page, dagster_ui)
        _check_materialized_by(seeded["home"], run_id)
        for asset, entries in PLOTS.items():
            _check_plots(page, dagster_ui, asset, entries)
        _check_columns(page, dagster_ui)
    except Exception:
        with contextlib.suppress(Exception):  # the page as it was; the test's error wins
            _shot(page, "failure.png")
        raise
    (ARTIFACTS / "timing.txt").write_text(f"browser part: {time.monotonic() - started:.1f}s\n")


#: What the model is built from, upstream first: the lineage the graph must show.
LINEAGE = ["raw_party_table", "validated_party_table", "party_summary", "global_encoder",
           "dagan_model"]


def _check_lineage(page, url: str) -> None:
    """The whole graph, then everything upstream of the model: landing -> contract -> party
    summary -> global encoder -> model, each node on screen."""
    page.goto(f"{url}/asset-groups", wait_until="domcontentloaded")
    page.locator("svg").get_by_text("summaries", exact=True).wait_for()
    _skip_community_dialog(page)
    page.locator("svg").get_by_text("encoding", exact=True).wait_for()
    _shot(page, "01_asset_graph.png")

    # everything upstream of the model, by group: ingest -> summaries -> encoding -> training
    _filter_graph(page, '+key:"dagan_model"')
    for group in ("ingest", "summaries", "encoding", "training"):
        page.locator("svg").get_by_text(group, exact=True).first.wait_for()
    assert not page.locator("svg").get_by_text("synthesis", exact=True).is_visible()
    _shot(page, "01_lineage_groups_to_the_model.png")

    # the same lineage asset by asset, from the model's page
    page.goto(f"{url}/assets/dagan_model?view=lineage&lineageScope=upstream&lineageDepth=4",
              wait_until="domcontentloaded")
    for asset in LINEAGE:
        # long names are cut in the middle on the node ("validated_p…_table")
        shown = re.compile("^" + re.escape(asset[:11]))
        page.locator("svg").get_by_text(shown).first.wait_for()
    _shot(page, "01_lineage_to_the_model.png")


def _materialize_party_summary(page, url: str) -> str:
    """Graph -> filter to the summaries group -> select party_summary -> Materialize selected ->
    partition party_0 -> Launch 1 run -> follow the run until it succeeds. Returns the run id."""
    page.goto(f"{url}/asset-groups", wait_until="domcontentloaded")
    page.locator("svg").get_by_text("summaries", exact=True).wait_for()

    _filter_graph(page, "group:summaries")
    node = page.locator("svg").get_by_text("party_summary", exact=True)
    node.wait_for()
    node.click()
    page.get_by_role("button", name="Materialize selected").click()

    dialog = page.locator(".dagster-dialog")
    dialog.get_by_text("Launch runs to materialize party_summary").wait_for()
    dialog.get_by_text("Select a partition or create one").click()
    page.get_by_role("menuitem", name="party_0").click()
    dialog.get_by_text("Launch runs to materialize").click()  # closes the partition list
    page.get_by_role("menuitem", name="party_1").wait_for(state="hidden")
    launch = dialog.get_by_role("button", name="Launch 1 run")
    launch.wait_for()
    _shot(page, "02_launch_dialog.png")
    launch.click()

    page.get_by_text("Launched run").wait_for()
    page.get_by_role("link", name="View", exact=True).click()
    page.wait_for_url("**/runs/*")
    run_id = page.url.rstrip("/").split("/")[-1]
    deadline = time.monotonic() + RUN_S
    while not page.get_by_text("Success", exact=True).first.is_visible():
        assert not page.get_by_text("Failure", exact=True).first.is_visible(), "the run failed"
        assert time.monotonic() < deadline, f"the run did not succeed within {RUN_S} s"
        page.wait_for_timeout(1000)
    _shot(page, "03_run_success.png")
    return run_id


def _skip_community_dialog(page) -> None:
    """On a fresh instance Dagster asks, a second after the first page loads, to join its
    community; skip it now so that it cannot swallow keystrokes later (the locator handler
    only guards clicks and waits)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    prompt = page.get_by_text("Join the Dagster community")
    try:
        prompt.wait_for(timeout=15_000)
    except PlaywrightTimeout:
        return  # already dismissed on this instance (or by the locator handler)
    _press_skip(page)
    prompt.wait_for(state="hidden")


def _filter_graph(page, query: str) -> None:
    """Type an asset selection into the graph's filter box and apply it."""
    # The placeholder names the box until something is typed into it.
    box = page.locator(".CodeMirror", has=page.get_by_text("Search and filter assets"))
    box = box.element_handle()
    for _ in range(3):
        box.click()
        page.keyboard.press("Control+A")
        page.keyboard.press("Backspace")
        page.keyboard.type(query, delay=20)
        if box.eval_on_selector(".CodeMirror-code", "e => e.innerText").strip() == query:
            break
    page.keyboard.press("Enter")


def _check_materialized_by(home: Path, run_id: str) -> None:
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("party_summary"))
    assert event is not None and event.run_id == run_id
    assert event.asset_materialization.partition == "party_0"


def _check_plots(page, url: str, asset: str, entries: list[str]) -> None:
    """Each entry's "Show Markdown" dialog on the asset's overview holds a loaded image."""
    page.goto(f"{url}/assets/{asset}", wait_until="domcontentloaded")
    for index, entry in enumerate(entries):
        row = page.locator("tr", has=page.get_by_text(entry, exact=True))
        row.get_by_text("[Show Markdown]").click()
        dialog = page.get_by_role("dialog").filter(has=page.get_by_text(entry, exact=True))
        image = dialog.locator("img")
        image.wait_for()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )
        width = image.evaluate("img => img.naturalWidth")
        assert width > 300, f"{asset}.{entry}: image only {width} px wide"
        _shot(page, f"{_number(asset, index)}_{asset}_{entry}.png")
        dialog.get_by_role("button", name="Close").click()
        dialog.wait_for(state="hidden")


def _number(asset: str, index: int) -> str:
    order = list(PLOTS)
    return f"{4 + sum(len(PLOTS[a]) for a in order[: order.index(asset)]) + index:02d}"


def _check_columns(page, url: str) -> None:
    """The synthetic table's page lists its columns with the contract's descriptions."""
    page.goto(f"{url}/assets/synthetic_table", wait_until="domcontentloaded")
    heading = page.get_by_text("Columns", exact=True).first
    heading.wait_for()
    heading.scroll_into_view_if_needed()
    page.get_by_text("Age in years", exact=False).first.wait_for()
    page.get_by_text("Party whose distribution generated the row", exact=False).first.wait_for()
    _shot(page, "09_synthetic_table_columns.png")

