-- The quality of every model trained for business date ${biz_date}: one row per (model, metric).
-- Each job replaces its own models' rows and keeps the others' (the jobs take turns under a lock).
CREATE TABLE IF NOT EXISTS ${db}.analysis_model_metrics (
  model  STRING,
  metric STRING,
  value  DOUBLE
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT model, metric, value FROM ${db}.analysis_model_metrics
WHERE biz_date = '${biz_date}' AND model NOT IN (SELECT DISTINCT model FROM ${source_view})
UNION ALL
SELECT model, metric, value FROM ${source_view};
