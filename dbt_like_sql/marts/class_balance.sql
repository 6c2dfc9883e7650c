-- comment: Class mix per party and model version: the real training rows' label counts against
-- comment: the synthetic rows' (counts and shares within the party; share_gap = synthetic - real).
-- column: model_version (VARCHAR): Model version (model_versions partition) the row is about.
-- column: party (VARCHAR): Party whose real rows / synthetic distribution are counted.
-- column: label_value (VARCHAR): A value of the label column.
-- column: real_n (BIGINT): Real training rows of the party with this label value (0 if none).
-- column: synthetic_n (BIGINT): Synthetic rows generated for the party with this label value.
-- column: real_share (DOUBLE): real_n / all real rows of the party (NULL if the party has none).
-- column: synthetic_share (DOUBLE): synthetic_n / all synthetic rows of the party.
-- column: share_gap (DOUBLE): synthetic_share - real_share; positive = the class is over-generated.
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
