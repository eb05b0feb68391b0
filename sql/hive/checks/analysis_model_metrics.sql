-- Data-quality gates of the model metrics of business date ${biz_date}.

-- check: one_value_per_model_and_metric
-- Every (model, metric) once, with a finite value.
SELECT model, metric, count(*) AS copies, max(value) AS value FROM ${db}.${build_table}
WHERE biz_date = '${biz_date}'
GROUP BY model, metric
HAVING count(*) <> 1 OR max(value) IS NULL OR isnan(max(value)) OR abs(max(value)) = double('Infinity');
