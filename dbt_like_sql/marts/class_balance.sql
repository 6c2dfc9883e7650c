-- comment: Class mix per party and model version: the real training rows' label counts against
-- comment: the synthetic rows' (counts and shares within the party; share_gap = synthetic - real).
WITH real AS (
    SELECT model_version, party, label_value, n FROM metrics.real_class_mix
),
synth AS (
    SELECT model_version, party, label_value, n FROM metrics.synthetic_class_mix
),
joined AS (
    SELECT
        model_version,
        party,
        label_value,
        coalesce(real.n, 0) AS real_n,
        coalesce(synth.n, 0) AS synthetic_n
    FROM real
    FULL OUTER JOIN synth USING (model_version, party, label_value)
)
SELECT
    model_version,
    party,
    label_value,
    real_n,
    synthetic_n,
    real_n / nullif(sum(real_n) OVER (PARTITION BY model_version, party), 0) AS real_share,
    synthetic_n / nullif(sum(synthetic_n) OVER (PARTITION BY model_version, party), 0)
        AS synthetic_share,
    synthetic_share - real_share AS share_gap
FROM joined
ORDER BY model_version, party, label_value
