-- A readable profile of each k-means cluster of business date ${biz_date}: its size and the most
-- common value of each profile feature (ties: the smallest value), with that value's share.
CREATE TABLE IF NOT EXISTS ${db}.analysis_cluster_profiles (
  cluster             INT,
  cars                INT,
  capacity_band       STRING,
  year_band           STRING,
  car_model           STRING,
  sex                 STRING,
  marriage            STRING,
  age_band            STRING,
  description         STRING
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT cluster, cars, capacity_band, year_band, car_model, sex, marriage, age_band, description
FROM ${source_view};
