-- comment: Per-party utility: each party's synthetic rows against its own real rows (TSTR vs TRTR,
-- comment: mean over the utility models, on the shared real test set), per model version.
SELECT
    model_version,
    strategy,
    party,
    metric,
    tstr,
    trtr,
    ratio,
    rank() OVER (PARTITION BY model_version, metric ORDER BY ratio ASC NULLS FIRST)
        AS worst_party_rank
FROM metrics.utility
WHERE scope = 'party' AND model = 'mean'
ORDER BY model_version, metric, party
