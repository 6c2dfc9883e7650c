-- comment: Per-party utility: each party's synthetic rows against its own real rows (TSTR vs TRTR,
-- comment: mean over the utility models, on the shared real test set), per model version.
-- column: model_version (VARCHAR): Model version (model_versions partition) the row is about.
-- column: strategy (VARCHAR): Training strategy of the model version: dagan or a baseline.
-- column: party (VARCHAR): Party whose synthetic rows (TSTR) and real rows (TRTR) were used.
-- column: metric (VARCHAR): Score on the shared real test set: macro_f1, minority_f1, balanced_accuracy or roc_auc.
-- column: tstr (DOUBLE): Train on the party's synthetic rows, test on real; mean over the utility models.
-- column: trtr (DOUBLE): Train on the party's real rows, test on real; mean over the utility models.
-- column: ratio (DOUBLE): tstr / trtr; 1 = the party's synthetic rows are as useful as its real ones.
-- column: setting (VARCHAR): The version's evaluation setting (models; rows real/synthetic/test; test set; seed).
-- column: worst_party_rank (BIGINT): Rank of the party by ratio inside version and metric, 1 = the worst-served party.
SELECT
    model_version,
    strategy,
    party,
    metric,
    tstr,
    trtr,
    ratio,
    coalesce(settings.setting, 'not recorded') AS setting,
    rank() OVER (PARTITION BY model_version, metric ORDER BY ratio ASC NULLS FIRST)
        AS worst_party_rank
FROM metrics.utility
LEFT JOIN (
    SELECT model_version, any_value(setting) AS setting
    FROM metrics.evaluation_settings
    GROUP BY model_version
) AS settings USING (model_version)
WHERE scope = 'party' AND model = 'mean'
ORDER BY model_version, metric, party
