-- Data-quality gates of the classifier's feature importances of business date ${biz_date}.

-- check: fourteen_features_adding_up_to_one
-- The 14 features of DOMAIN "Analysis", each once, importances in [0, 1] adding up to 1.
SELECT count(*) AS features, count(DISTINCT feature) AS distinct_features, sum(importance) AS total,
       min(importance) AS smallest, max(importance) AS largest
FROM ${db}.${build_table} WHERE biz_date = '${biz_date}'
HAVING count(*) <> 14 OR count(DISTINCT feature) <> 14 OR abs(sum(importance) - 1) > 1e-6
    OR min(importance) < 0 OR max(importance) > 1;
