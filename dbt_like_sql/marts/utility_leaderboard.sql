-- comment: One row per model version: pooled TSTR and TSTR/TRTR (mean over the utility models) per
-- comment: metric, headline similarity and privacy, ranked by the macro-F1 ratio (1 = best).
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
