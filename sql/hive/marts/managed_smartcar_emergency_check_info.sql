-- Mart 4: adult cars needing urgent inspection on business date ${biz_date}, one row per car,
-- from the status mart (deduplicated, adults only). Checks:
--   any tyre day-average below ${tire_threshold}  -> 'Tire Check'
--   any light code 2                             -> 'Light Check'
--   any engine code C                            -> 'Engine Check'
--   any brake code C                             -> 'Brake Check'
--   battery day-average below ${battery_threshold} -> 'Battery Check'
-- Only cars with at least one check. `checks` lists the failed labels in the order above,
-- separated by ',' (e.g. 'Tire Check,Brake Check'); one boolean column per check as well.
CREATE TABLE IF NOT EXISTS ${db}.managed_smartcar_emergency_check_info (
  car_number    STRING,
  status_events INT,
  avg_tire_fl   DECIMAL(12,6),
  avg_tire_fr   DECIMAL(12,6),
  avg_tire_bl   DECIMAL(12,6),
  avg_tire_br   DECIMAL(12,6),
  avg_battery   DECIMAL(12,6),
  tire_check    BOOLEAN,
  light_check   BOOLEAN,
  engine_check  BOOLEAN,
  brake_check   BOOLEAN,
  battery_check BOOLEAN,
  check_count   INT,
  checks        STRING
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT car_number, CAST(events AS INT),
       CAST(fl AS DECIMAL(12,6)), CAST(fr AS DECIMAL(12,6)), CAST(bl AS DECIMAL(12,6)),
       CAST(br AS DECIMAL(12,6)), CAST(bat AS DECIMAL(12,6)),
       tire, light, engine, brake, battery,
       CAST(IF(tire, 1, 0) + IF(light, 1, 0) + IF(engine, 1, 0) + IF(brake, 1, 0) + IF(battery, 1, 0) AS INT),
       concat_ws(',',
                 IF(tire, 'Tire Check', NULL), IF(light, 'Light Check', NULL),
                 IF(engine, 'Engine Check', NULL), IF(brake, 'Brake Check', NULL),
                 IF(battery, 'Battery Check', NULL))
FROM (
  SELECT car_number, events, fl, fr, bl, br, bat,
         (fl < ${tire_threshold} OR fr < ${tire_threshold}
          OR bl < ${tire_threshold} OR br < ${tire_threshold}) AS tire,
         light_faults > 0 AS light,
         engine_faults > 0 AS engine,
         brake_faults > 0 AS brake,
         bat < ${battery_threshold} AS battery
  FROM (
    SELECT car_number,
           count(*) AS events,
           avg(CAST(tire_fl AS DOUBLE)) AS fl,
           avg(CAST(tire_fr AS DOUBLE)) AS fr,
           avg(CAST(tire_bl AS DOUBLE)) AS bl,
           avg(CAST(tire_br AS DOUBLE)) AS br,
           avg(CAST(battery AS DOUBLE)) AS bat,
           sum(IF(light_fl = '2' OR light_fr = '2' OR light_bl = '2' OR light_br = '2', 1, 0)) AS light_faults,
           sum(IF(engine = 'C', 1, 0)) AS engine_faults,
           sum(IF(`break` = 'C', 1, 0)) AS brake_faults
    FROM ${db}.managed_smartcar_status_info
    WHERE biz_date = '${biz_date}'
    GROUP BY car_number
  ) per_car
) flagged
WHERE tire OR light OR engine OR brake OR battery;
