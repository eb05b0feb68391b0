-- Exploration 1: the fastest car of each area on business date ${biz_date}, by its AVERAGE speed
-- over its driving events in that area (the original's Impala query ranked averages, not maxima).
-- Rank 1 per area is kept; cars with the same average share it.
CREATE TABLE IF NOT EXISTS ${db}.analysis_fastest_car_per_area (
  area_number STRING,
  car_number  STRING,
  avg_speed   DOUBLE,
  events      BIGINT
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT area_number, car_number, avg_speed, events
FROM (
  SELECT area_number, car_number, avg(speed) AS avg_speed, count(*) AS events,
         rank() OVER (PARTITION BY area_number ORDER BY avg(speed) DESC) AS speed_rank
  FROM ${db}.managed_smartcar_drive_info
  WHERE biz_date = '${biz_date}'
  GROUP BY area_number, car_number
) ranked
WHERE speed_rank = 1;
