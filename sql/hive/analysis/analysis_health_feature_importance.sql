-- What the status-health classifier of business date ${biz_date} learnt (Spark MLlib random forest,
-- analysis/classify.py): each of the 14 features with its importance (they add up to 1).
CREATE TABLE IF NOT EXISTS ${db}.analysis_health_feature_importance (
  feature    STRING,
  importance DOUBLE
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT feature, importance FROM ${source_view};
