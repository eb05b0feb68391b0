-- Exploration 3: overspeed windows of business date ${biz_date} per region and age band, by the
-- real-time alert rule applied to the drive mart (adults): per car, event-time tumbling windows of
-- ${window_seconds} s aligned to the start of the day; a window counts when the mean speed of its
-- events is above ${overspeed_threshold} km/h. Age bands: 18-29, 30-39, 40-49, 50-59, 60+.
CREATE TABLE IF NOT EXISTS ${db}.analysis_overspeed_by_region_age (
  region   STRING,
  age_band STRING,
  windows  BIGINT,
  cars     BIGINT
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT region, age_band, count(*) AS windows, count(DISTINCT car_number) AS cars
FROM (
  SELECT car_number, region, age_band, window_no
  FROM (
    SELECT car_number, region, speed,
           CASE WHEN age < 30 THEN '18-29' WHEN age < 40 THEN '30-39' WHEN age < 50 THEN '40-49'
                WHEN age < 60 THEN '50-59' ELSE '60+' END AS age_band,
           floor((CAST(substr(r_date, 9, 2) AS INT) * 3600 + CAST(substr(r_date, 11, 2) AS INT) * 60
                  + CAST(substr(r_date, 13, 2) AS INT)) / ${window_seconds}) AS window_no
    FROM ${db}.managed_smartcar_drive_info
    WHERE biz_date = '${biz_date}'
      AND speed IS NOT NULL
  ) events
  GROUP BY car_number, region, age_band, window_no
  HAVING avg(speed) > ${overspeed_threshold}
) windows
GROUP BY region, age_band;
