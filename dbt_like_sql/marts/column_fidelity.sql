-- comment: Per-column fidelity of each model version's synthetic rows (JS distance for discrete
-- comment: columns, min-max-scaled Wasserstein for continuous ones; lower is better), with the
-- comment: column's rank inside the version (1 = worst) and the best version for that column.
SELECT
    model_version,
    strategy,
    column_name,
    kind,
    metric,
    value,
    rank() OVER (PARTITION BY model_version ORDER BY value DESC NULLS LAST) AS worst_rank,
    arg_min(model_version, value) OVER (PARTITION BY column_name, metric) AS best_version,
    value - min(value) OVER (PARTITION BY column_name, metric) AS gap_to_best
FROM metrics.column_fidelity
ORDER BY model_version, worst_rank, column_name
