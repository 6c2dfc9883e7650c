-- comment: Rows per party and model version: real training rows against synthetic rows, and each
-- comment: party's share of all rows on both sides.
-- column: model_version (VARCHAR): Model version (model_versions partition) the row is about.
-- column: party (VARCHAR): Party of the federation.
-- column: real_rows (BIGINT): Real training rows the party contributed (a count from the training record).
-- column: synthetic_rows (BIGINT): Synthetic rows generated for the party.
-- column: real_share (DOUBLE): The party's share of all real training rows of the version.
-- column: synthetic_share (DOUBLE): The party's share of all synthetic rows of the version.
WITH synth AS (
    SELECT model_version, party, count(*) AS synthetic_rows
    FROM synthetic.rows
    GROUP BY model_version, party
),
real AS (
    SELECT model_version, party, CAST(sum(n) AS BIGINT) AS real_rows
    FROM metrics.real_class_mix
    GROUP BY model_version, party
)
SELECT
    model_version,
    party,
    coalesce(real.real_rows, 0) AS real_rows,
    coalesce(synth.synthetic_rows, 0) AS synthetic_rows,
    real_rows / nullif(sum(real_rows) OVER (PARTITION BY model_version), 0) AS real_share,
    synthetic_rows / nullif(sum(synthetic_rows) OVER (PARTITION BY model_version), 0)
        AS synthetic_share
FROM real
FULL OUTER JOIN synth USING (model_version, party)
ORDER BY model_version, party
