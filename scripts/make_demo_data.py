"""Write the bundled demo data set: UCI Adult split into 5 parties with double imbalance.

    python scripts/make_demo_data.py [--datasets-dir ../shared/datasets] [--out demo]

Writes ``<out>/landing/<party>/adult_<party>.csv`` (same columns as adult.csv), copies the
official test split to ``<out>/reference/adult_test.csv`` and writes ``<out>/README.md``.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the bench package of this checkout, installed or not

from bench.imbalance import ScenarioConfig, build_scenario  # noqa: E402

logger = logging.getLogger("make_demo_data")
CONFIG = ScenarioConfig(n_parties=5, size_ratio=20.0, dirichlet_beta=0.1, ir_cap=None, seed=7)
COMMAND = "python scripts/make_demo_data.py --datasets-dir ../shared/datasets --out demo"

README = """# Demo data: UCI Adult split into 5 parties

Landing files for the pipeline demo: `landing/<party>/adult_<party>.csv`, one folder per party,
same columns as the source `adult.csv`. `reference/adult_test.csv` is the real test set used to
score synthetic data (train on synthetic, test on real); it is never given to a party.

## Source and licence

"Adult" (Census Income) from the UCI Machine Learning Repository, donated by Ronny Kohavi and
Barry Becker, extracted from the 1994 US Census. Licence: CC BY 4.0, doi:10.24432/C5XW20.
Cite R. Kohavi, "Scaling Up the Accuracy of Naive-Bayes Classifiers: a Decision-Tree Hybrid",
KDD 1996. The files come from the project's `shared/datasets/adult.csv` (official 32,561-row
training split) and `adult_test.csv` (official 16,281-row test split, trailing `.` removed from
the labels); `?` marks a missing value and is kept as a literal string.

## How the split was made

    {command}

`bench.imbalance.build_scenario(adult.csv, label="income", config, test_df=adult_test.csv)`
with `ScenarioConfig(n_parties=5, size_ratio=20, dirichlet_beta=0.1, ir_cap=None, seed=7)`:
the official test split is the test set; the 32,561 training rows are dealt to 5 parties whose
target sizes are geometric with largest / smallest = 20, and each class is spread over the parties
by a Dirichlet(0.1) draw fitted to those sizes (see the docstring of `build_scenario`). No row is
in two parties, none is changed. Rows per party and class:

{table}
"""


def main(argv: list[str] | None = None) -> None:
    """Build the demo files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets-dir", type=Path, default=REPO.parent / "shared" / "datasets")
    parser.add_argument("--out", type=Path, default=REPO / "demo")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    train = pd.read_csv(args.datasets_dir / "adult.csv")
    test = pd.read_csv(args.datasets_dir / "adult_test.csv")
    scenario = build_scenario(train, "income", CONFIG, test_df=test)
    landing = args.out / "landing"
    if landing.exists():
        shutil.rmtree(landing)
    for party, rows in scenario.parties.items():
        folder = landing / party
        folder.mkdir(parents=True, exist_ok=True)
        rows.to_csv(folder / f"adult_{party}.csv", index=False)
        logger.info("wrote %s (%d rows)", folder / f"adult_{party}.csv", len(rows))
    reference = args.out / "reference"
    reference.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.datasets_dir / "adult_test.csv", reference / "adult_test.csv")
    table = scenario.describe().reset_index()
    lines = ["| " + " | ".join(map(str, table.columns)) + " |",
             "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    (args.out / "README.md").write_text(README.format(command=COMMAND, table="\n".join(lines)))
    logger.info("wrote %s", args.out / "README.md")


if __name__ == "__main__":
    main()
