-- comment: One row per model version: pooled TSTR and TSTR/TRTR (mean over the utility models) per
-- comment: metric, headline similarity and privacy, ranked by the macro-F1 ratio (1 = best).
-- column: rank (BIGINT): Rank of the model version by ratio_macro_f1, 1 = best.
-- column: model_version (VARCHAR): Model version (model_versions partition) the row is about.
-- column: strategy (VARCHAR): Training strategy of the model version: dagan or a baseline.
-- column: evaluated_at (TIMESTAMP WITH TIME ZONE): When the version's metrics were computed.
-- column: tstr_macro_f1 (DOUBLE): Macro-F1 on the real test set of models trained on synthetic rows (mean over models).
-- column: ratio_macro_f1 (DOUBLE): tstr_macro_f1 / the same score when trained on real rows.
-- column: tstr_minority_f1 (DOUBLE): F1 of the minority class, trained on synthetic rows.
-- column: ratio_minority_f1 (DOUBLE): tstr_minority_f1 / the same score when trained on real rows.
-- column: tstr_balanced_accuracy (DOUBLE): Balanced accuracy, trained on synthetic rows.
-- column: ratio_balanced_accuracy (DOUBLE): tstr_balanced_accuracy / the same score when trained on real rows.
-- column: tstr_roc_auc (DOUBLE): ROC-AUC, trained on synthetic rows.
-- column: ratio_roc_auc (DOUBLE): tstr_roc_auc / the same score when trained on real rows.
-- column: jsd_mean (DOUBLE): Mean Jensen-Shannon distance of the discrete columns, real vs synthetic (lower is better).
-- column: wasserstein_mean (DOUBLE): Mean scaled Wasserstein distance of the continuous columns (lower is better).
-- column: class_mix_jsd_mean (DOUBLE): Mean over parties of the label-mix distance, real vs synthetic (lower is better).
-- column: dcr_ratio (DOUBLE): Distance to closest record, synthetic vs holdout (5th percentiles); at least 1 = no closer to training rows than unseen real rows are.
-- column: exact_copy_rate (DOUBLE): Share of synthetic rows that copy a training row exactly.
WITH utility AS (
    SELECT
        model_version,
        any_value(strategy) AS strategy,
        max(evaluated_at) AS evaluated_at,
        max(tstr) FILTER (WHERE metric = 'macro_f1') AS tstr_macro_f1,
        max(ratio) FILTER (WHERE metric = 'macro_f1') AS ratio_macro_f1,
        max(tstr) FILTER (WHERE metric = 'minority_f1') AS tstr_minority_f1,
        max(ratio) FILTER (WHERE metric = 'minority_f1') AS ratio_minority_f1,
        max(tstr) FILTER (WHERE metric = 'balanced_accuracy') AS tstr_balanced_accuracy,
        max(ratio) FILTER (WHERE metric = 'balanced_accuracy') AS ratio_balanced_accuracy,
        max(tstr) FILTER (WHERE metric = 'roc_auc') AS tstr_roc_auc,
        max(ratio) FILTER (WHERE metric = 'roc_auc') AS ratio_roc_auc
    FROM metrics.utility
    WHERE scope = 'pooled' AND model = 'mean'
    GROUP BY model_version
),
similarity AS (
    SELECT
        model_version,
        max(value) FILTER (WHERE metric = 'jsd_mean') AS jsd_mean,
        max(value) FILTER (WHERE metric = 'wasserstein_mean') AS wasserstein_mean,
        max(value) FILTER (WHERE metric = 'class_mix_jsd_mean') AS class_mix_jsd_mean
    FROM metrics.similarity
    WHERE party IS NULL
    GROUP BY model_version
),
privacy AS (
    SELECT
        model_version,
        max(value) FILTER (WHERE metric = 'dcr_ratio') AS dcr_ratio,
        max(value) FILTER (WHERE metric = 'exact_copy_rate_synth') AS exact_copy_rate
    FROM metrics.privacy
    GROUP BY model_version
)
SELECT
    rank() OVER (ORDER BY ratio_macro_f1 DESC NULLS LAST) AS rank,
    utility.*,
    similarity.* EXCLUDE (model_version),
    privacy.* EXCLUDE (model_version)
FROM utility
LEFT JOIN similarity USING (model_version)
LEFT JOIN privacy USING (model_version)
ORDER BY rank, model_version
