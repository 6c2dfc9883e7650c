#!/bin/bash
# Bank beside the Adult demo in one warehouse, from a contract drafted by `dagan contract init`
# (docs/own_dataset.md). Run from the repository root:
#
#   scripts/own_dataset_bank.sh [BANK_CSV] [WORK_DIR]
#
# BANK_CSV defaults to ../shared/datasets/bank.csv, WORK_DIR to a new temporary folder; everything
# the pipeline writes goes to WORK_DIR/var (DAGAN_VAR_DIR). ADULT_EPOCHS and BANK_EPOCHS set the
# epochs (default 2 and 3). Nothing in the repository is written.
set -u
BANK_CSV=${1:-../shared/datasets/bank.csv}
WORK=${2:-$(mktemp -d -t dagan-bank-XXXX)}
export DAGAN_VAR_DIR=$WORK/var OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
PY=${PYTHON:-.venv/bin/python}
DAGAN="$PY -m pipelines.cli"
t0=$(date +%s)
run() { echo "\$ $*"; s=$(date +%s); "$@" 2>&1 | grep -v "ephemeral docs site"; rc=${PIPESTATUS[0]}; echo "[exit $rc, $(( $(date +%s) - s ))s]"; }

echo "\$ # split Bank: 20% held out as the test set, the rest into 3 parties (60/30/10 %)"
$PY - "$BANK_CSV" "$WORK" <<'PY'
import os, sys
import pandas as pd
source, work = sys.argv[1:]
rows = pd.read_csv(source)
test = rows.sample(frac=0.2, random_state=0)
rest = rows.drop(test.index).sample(frac=1, random_state=1)
test.to_csv(f"{work}/bank_test.csv", index=False)
cuts = [0, int(len(rest) * 0.6), int(len(rest) * 0.9), len(rest)]
for i, name in enumerate(["bank_a", "bank_b", "bank_c"]):
    os.makedirs(f"{work}/landing/{name}", exist_ok=True)
    part = rest.iloc[cuts[i]:cuts[i + 1]]
    part.to_csv(f"{work}/landing/{name}/{name}.csv", index=False)
    print(name, len(part), "rows")
PY

# 1. draft from one party's sample, and let each party check its own files
run $DAGAN contract init --sample "$WORK/landing/bank_a" --label y --out "$WORK/bank" \
    --landing "$WORK/landing" --test-set "$WORK/bank_test.csv"
for p in bank_a bank_b bank_c; do
    run $DAGAN contract check --contract "$WORK/bank" --landing "$WORK/landing" --party $p
done

# 2. review: merge the parties' category lists (a draft from all their folders) and open the
#    upper bounds of the number ranges; then every party checks again
echo "\$ # review: merged category lists, upper bounds opened"
run $DAGAN contract init --sample "$WORK/landing" --label y --out "$WORK/bank" \
    --landing "$WORK/landing" --test-set "$WORK/bank_test.csv" --force >/dev/null
$PY - "$WORK/bank/suites/bank.json" <<'PY'
import json, sys
path = sys.argv[1]
suite = json.load(open(path))
for rule in suite["expectations"]:
    if rule["type"] == "expect_column_values_to_be_between":
        rule["kwargs"]["max_value"] = None
json.dump(suite, open(path, "w"), indent=2)
PY
for p in bank_a bank_b bank_c; do
    run $DAGAN contract check --contract "$WORK/bank" --landing "$WORK/landing" --party $p
done

# 3. the Adult demo, then Bank, into the same warehouse
run $DAGAN demo --epochs "${ADULT_EPOCHS:-2}" --dagster-home "$WORK/dagster_home" \
    --evaluation-config '{"models": ["lr"]}' --no-queries
run $DAGAN demo --dataset "$WORK/bank" --version bank-v1 --epochs "${BANK_EPOCHS:-3}" \
    --dagster-home "$WORK/dagster_home" --evaluation-config '{"models": ["lr"]}'

# 4. SQL on the shared warehouse
$PY - "$DAGAN_VAR_DIR/warehouse/dagan_warehouse.duckdb" <<'PY'
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
for sql in [
    "SELECT namespace, dataset, label FROM main.dagan_datasets ORDER BY 1",
    "SELECT schema_name, count(*) AS tables FROM duckdb_tables() GROUP BY 1 ORDER BY 1",
    "SELECT y, count(*) AS n FROM synthetic_bank.rows GROUP BY y ORDER BY y",
    "SELECT model_version, strategy, round(tstr_macro_f1, 3) AS tstr_macro_f1, "
    "round(ratio_macro_f1, 3) AS ratio_macro_f1 FROM marts_bank.utility_leaderboard",
    "SELECT model_version, strategy, round(tstr_macro_f1, 3) AS tstr_macro_f1, "
    "round(ratio_macro_f1, 3) AS ratio_macro_f1 FROM marts.utility_leaderboard",
]:
    print(f"\n-- {sql};\n{con.execute(sql).df().to_string(index=False)}")
PY
echo "total $(( $(date +%s) - t0 ))s (work folder $WORK)"
