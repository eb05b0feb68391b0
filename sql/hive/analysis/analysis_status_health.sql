-- The status-health label of business date ${biz_date} (DOMAIN "Analysis"; the classifier's
-- input): every status record of the status mart with its 14 features, its health points and
-- its label, `abnormal` when the points are below 6, else `normal`. Points are added up in
-- tenths (whole numbers), so a sum of exactly 6 is never mistaken for 5.9999.
--   each tyre: below 10 -> 0.1, below 20 -> 0.2, below 40 -> 0.4, otherwise 0.5
--   each light: fault (2) -> 0, otherwise 0.5
--   engine and brake each: A -> 1.0, B -> 0.5, C -> 0.0
--   battery: below 20 -> 0.2, below 40 -> 0.4, below 60 -> 0.6, otherwise 1.0
--   capacity: below 1500 cc -> -0.3, below 2000 -> -0.2, otherwise -0.1
--   car year: before 2005 -> -0.3, before 2010 -> -0.2, otherwise -0.1
--   model B, D, F or H -> -0.3, others 0
CREATE TABLE IF NOT EXISTS ${db}.analysis_status_health (
  reg_date      STRING,
  car_number    STRING,
  car_capacity  INT,
  car_year      INT,
  car_model     STRING,
  tire_fl       INT,
  tire_fr       INT,
  tire_bl       INT,
  tire_br       INT,
  light_fl      STRING,
  light_fr      STRING,
  light_bl      STRING,
  light_br      STRING,
  engine        STRING,
  `break`       STRING,
  battery       INT,
  health_points DECIMAL(4,1),
  label         STRING
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT reg_date, car_number, car_capacity, car_year, car_model,
       tire_fl, tire_fr, tire_bl, tire_br, light_fl, light_fr, light_bl, light_br, engine, `break`,
       battery,
       CAST(tenths / 10.0 AS DECIMAL(4,1)) AS health_points,
       IF(tenths < 60, 'abnormal', 'normal') AS label
FROM (
  SELECT s.*,
         CASE WHEN tire_fl < 10 THEN 1 WHEN tire_fl < 20 THEN 2 WHEN tire_fl < 40 THEN 4 ELSE 5 END
       + CASE WHEN tire_fr < 10 THEN 1 WHEN tire_fr < 20 THEN 2 WHEN tire_fr < 40 THEN 4 ELSE 5 END
       + CASE WHEN tire_bl < 10 THEN 1 WHEN tire_bl < 20 THEN 2 WHEN tire_bl < 40 THEN 4 ELSE 5 END
       + CASE WHEN tire_br < 10 THEN 1 WHEN tire_br < 20 THEN 2 WHEN tire_br < 40 THEN 4 ELSE 5 END
       + IF(light_fl = '2', 0, 5) + IF(light_fr = '2', 0, 5)
       + IF(light_bl = '2', 0, 5) + IF(light_br = '2', 0, 5)
       + CASE engine WHEN 'A' THEN 10 WHEN 'B' THEN 5 ELSE 0 END
       + CASE `break` WHEN 'A' THEN 10 WHEN 'B' THEN 5 ELSE 0 END
       + CASE WHEN battery < 20 THEN 2 WHEN battery < 40 THEN 4 WHEN battery < 60 THEN 6 ELSE 10 END
       - CASE WHEN car_capacity < 1500 THEN 3 WHEN car_capacity < 2000 THEN 2 ELSE 1 END
       - CASE WHEN car_year < 2005 THEN 3 WHEN car_year < 2010 THEN 2 ELSE 1 END
       - IF(car_model IN ('B', 'D', 'F', 'H'), 3, 0) AS tenths
  FROM ${db}.managed_smartcar_status_info s
  WHERE s.biz_date = '${biz_date}'
) scored;
