-- Mart 1: the status records of business date ${biz_date} joined with the adult owner profile.
--
-- Input rows come from collection partitions ${biz_date}..${last_wrk_date} (late arrivals) and
-- are kept when their EVENT date (first 8 digits of reg_date) is the business date. A collector
-- crash-replay can land the same record twice (same car and reg_date, possibly in two
-- partitions): exactly one copy is kept, deterministically the earliest collected.
-- Reruns overwrite the partition, so they never duplicate.
CREATE TABLE IF NOT EXISTS ${db}.managed_smartcar_status_info (
  reg_date     STRING,
  car_number   STRING,
  tire_fl      INT,
  tire_fr      INT,
  tire_bl      INT,
  tire_br      INT,
  light_fl     STRING,
  light_fr     STRING,
  light_bl     STRING,
  light_br     STRING,
  engine       STRING,
  `break`      STRING,
  battery      INT,
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
SELECT s.reg_date, s.car_number,
       s.tire_fl, s.tire_fr, s.tire_bl, s.tire_br,
       s.light_fl, s.light_fr, s.light_bl, s.light_br,
       s.engine, s.`break`, s.battery,
       m.sex, m.age, m.marriage, m.region, m.job, m.car_capacity, m.car_year, m.car_model
FROM (
  SELECT st.*,
         row_number() OVER (PARTITION BY st.car_number, st.reg_date
                            ORDER BY st.wrk_date, st.tire_fl, st.tire_fr, st.tire_bl, st.tire_br,
                                     st.light_fl, st.light_fr, st.light_bl, st.light_br,
                                     st.engine, st.`break`, st.battery) AS copy_no
  FROM ${db}.smartcar_status_info st
  WHERE st.wrk_date BETWEEN '${biz_date}' AND '${last_wrk_date}'
    AND substr(st.reg_date, 1, 8) = '${biz_date}'
    AND st.car_number IS NOT NULL
) s
JOIN ${db}.smartcar_master_over18 m ON m.car_number = s.car_number
WHERE s.copy_no = 1;
