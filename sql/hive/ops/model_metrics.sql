-- Every model metric of business date ${biz_date} (pilot demo's headlines).
SELECT model, metric, value FROM ${db}.analysis_model_metrics WHERE biz_date = '${biz_date}'
