-- Mart 2: the driving events of business date ${biz_date} joined with the adult owner profile.
--
-- Same date and duplicate rules as mart 1: events whose r_date falls on the business date, from
-- collection partitions ${biz_date}..${last_wrk_date}; one row per (car_number, r_date).
CREATE TABLE IF NOT EXISTS ${db}.managed_smartcar_drive_info (
  r_date       STRING,
  car_number   STRING,
  speed_pedal  INT,
  break_pedal  INT,
  steer_angle  STRING,
  direct_light STRING,
  speed        INT,
  area_number  STRING,
  sex          STRING,
  age          INT,
  marriage     STRING,
  region       STRING,
  job          STRING,
  car_capacity INT,
  car_year     INT,
  car_model    STRING
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT d.r_date, d.car_number, d.speed_pedal, d.break_pedal, d.steer_angle, d.direct_light,
       d.speed, d.area_number,
       m.sex, m.age, m.marriage, m.region, m.job, m.car_capacity, m.car_year, m.car_model
FROM (
  SELECT dr.*,
         row_number() OVER (PARTITION BY dr.car_number, dr.r_date
                            ORDER BY dr.wrk_date, dr.speed_pedal, dr.break_pedal, dr.steer_angle,
                                     dr.direct_light, dr.speed, dr.area_number) AS copy_no
  FROM ${db}.smartcar_drive_info dr
  WHERE dr.wrk_date BETWEEN '${biz_date}' AND '${last_wrk_date}'
    AND substr(dr.r_date, 1, 8) = '${biz_date}'
    AND dr.car_number IS NOT NULL
) d
JOIN ${db}.smartcar_master_over18 m ON m.car_number = d.car_number
WHERE d.copy_no = 1;
