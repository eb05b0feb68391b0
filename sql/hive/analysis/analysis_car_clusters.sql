-- Every adult car of the master with its k-means cluster (Spark MLlib, analysis/cluster.py) for the
-- run of business date ${biz_date}, next to the profile it was clustered on (DOMAIN "Analysis").
CREATE TABLE IF NOT EXISTS ${db}.analysis_car_clusters (
  car_number    STRING,
  cluster       INT,
  capacity_band STRING,
  year_band     STRING,
  car_model     STRING,
  sex           STRING,
  marriage      STRING,
  age_band      STRING
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT car_number, cluster, capacity_band, year_band, car_model, sex, marriage, age_band
FROM ${source_view};
