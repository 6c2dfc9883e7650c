-- comment: Rows per party and model version: real training rows against synthetic rows, and each
-- comment: party's share of all rows on both sides.
WITH synth AS (
    SELECT model_version, party, count(*) AS synthetic_rows
    FROM synthetic.rows
    GROUP BY model_version, party
),
real AS (
    SELECT model_version, party, sum(n) AS real_rows
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
