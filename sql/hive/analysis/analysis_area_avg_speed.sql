-- Exploration 2: the average speed of each area on business date ${biz_date}, kept where it is
-- at least ${min_speed} km/h (the original notebook's form; the parameter is stored with the rows).
CREATE TABLE IF NOT EXISTS ${db}.analysis_area_avg_speed (
  area_number STRING,
  avg_speed   DOUBLE,
  events      BIGINT,
  cars        BIGINT,
  min_speed   DOUBLE
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT area_number, avg(speed) AS avg_speed, count(*) AS events, count(DISTINCT car_number) AS cars,
       CAST(${min_speed} AS DOUBLE) AS min_speed
FROM ${db}.managed_smartcar_drive_info
WHERE biz_date = '${biz_date}'
GROUP BY area_number
HAVING avg(speed) >= ${min_speed};
