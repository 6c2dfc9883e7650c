-- comment: Per-column fidelity of each model version's synthetic rows (JS distance for discrete
-- comment: columns, min-max-scaled Wasserstein for continuous ones; lower is better), with the
-- comment: column's rank inside the version (1 = worst) and the best version for that column.
-- column: model_version (VARCHAR): Model version (model_versions partition) the row is about.
-- column: strategy (VARCHAR): Training strategy of the model version: dagan or a baseline.
-- column: column_name (VARCHAR): Column of the shared schema.
-- column: kind (VARCHAR): discrete or continuous.
-- column: metric (VARCHAR): jsd (discrete: Jensen-Shannon distance) or wasserstein (continuous, min-max scaled).
-- column: value (DOUBLE): Distance between the column's real and synthetic distribution; lower is better.
-- column: worst_rank (BIGINT): Rank of the column inside its model version, 1 = the worst-fitting column.
-- column: setting (VARCHAR): The version's evaluation setting; best_version and gap_to_best compare versions of the same setting only.
-- column: best_version (VARCHAR): Model version with the lowest value for this column and metric, among the versions of the same evaluation setting.
-- column: gap_to_best (DOUBLE): value minus the best version's value for this column in the same setting (0 = this is the best).
WITH fidelity AS (
    SELECT
        f.*,
        coalesce(settings.setting, 'not recorded') AS setting
    FROM metrics.column_fidelity AS f
    LEFT JOIN (
        SELECT model_version, any_value(setting) AS setting
        FROM metrics.evaluation_settings
        GROUP BY model_version
    ) AS settings USING (model_version)
)
SELECT
    model_version,
    strategy,
    column_name,
    kind,
    metric,
    value,
    rank() OVER (PARTITION BY model_version ORDER BY value DESC NULLS LAST) AS worst_rank,
    setting,
    arg_min(model_version, value) OVER (PARTITION BY setting, column_name, metric)
        AS best_version,
    value - min(value) OVER (PARTITION BY setting, column_name, metric) AS gap_to_best
FROM fidelity
ORDER BY model_version, worst_rank, column_name
