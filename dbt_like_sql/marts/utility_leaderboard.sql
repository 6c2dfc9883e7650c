-- comment: One row per model version: pooled TSTR and TSTR/TRTR (mean over the utility models) per
-- comment: metric, headline similarity and privacy, ranked by the macro-F1 ratio (1 = best) among
-- comment: the versions scored with the same evaluation setting only (utility models, rows, test
-- comment: set, seed); versions of different settings are not ranked against each other.
-- column: rank (BIGINT): Rank of the model version by ratio_macro_f1 within its evaluation setting, 1 = best.
-- column: setting (VARCHAR): The evaluation setting (models; rows real/synthetic/test; test set; seed); 'not recorded' for versions scored before settings were kept.
-- column: versions_in_setting (BIGINT): How many model versions share this evaluation setting (the size of the ranking).
-- column: model_version (VARCHAR): Model version (model_versions partition) the row is about.
-- column: strategy (VARCHAR): Training strategy of the model version: dagan or a baseline.
-- column: epochs (BIGINT): Training epochs of the model version.
-- column: models (VARCHAR): Utility models fitted (mean over these), comma-separated.
-- column: real_rows (BIGINT): Real training rows the utility models saw.
-- column: synthetic_rows (BIGINT): Synthetic rows the utility models saw.
-- column: test_rows (BIGINT): Real test rows scored.
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
settings AS (
    SELECT
        model_version,
        any_value(setting) AS setting,
        any_value(epochs) AS epochs,
        any_value(models) AS models,
        any_value(real_rows) AS real_rows,
        any_value(synthetic_rows) AS synthetic_rows,
        any_value(test_rows) AS test_rows
    FROM metrics.evaluation_settings
    GROUP BY model_version
),
privacy AS (
    SELECT
        model_version,
        max(value) FILTER (WHERE metric = 'dcr_ratio') AS dcr_ratio,
        max(value) FILTER (WHERE metric = 'exact_copy_rate_synth') AS exact_copy_rate
    FROM metrics.privacy
    GROUP BY model_version
),
ranked AS (
    SELECT
        coalesce(settings.setting, 'not recorded') AS setting,
        utility.*,
        settings.* EXCLUDE (model_version, setting),
        similarity.* EXCLUDE (model_version),
        privacy.* EXCLUDE (model_version)
    FROM utility
    LEFT JOIN settings USING (model_version)
    LEFT JOIN similarity USING (model_version)
    LEFT JOIN privacy USING (model_version)
)
SELECT
    rank() OVER (PARTITION BY setting ORDER BY ratio_macro_f1 DESC NULLS LAST) AS rank,
    setting,
    count(*) OVER (PARTITION BY setting) AS versions_in_setting,
    model_version,
    strategy,
    epochs,
    models,
    real_rows,
    synthetic_rows,
    test_rows,
    ranked.* EXCLUDE (setting, model_version, strategy, epochs, models, real_rows,
                      synthetic_rows, test_rows)
FROM ranked
ORDER BY setting, rank, model_version
