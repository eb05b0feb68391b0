-- Mart 3: abnormal driving per adult car of the drive mart on business date ${biz_date}.
--
-- For each car: its day-average accelerator and brake steps, each with an exact z-score against
-- the fleet of that day, z = (car average - mean of all cars' averages) / POPULATION standard
-- deviation of all cars' averages (z = 0 when every car has the same average), labelled
-- 'abnormal' when |z| > ${z_threshold}, else 'normal'. And its count of sharp steering events
-- (L2, L3, R2, R3), labelled 'abnormal' when that count is above ${sharp_turn_share_threshold}
-- of the car's events of the day. Cars without a sharp turn are kept with a count of 0.
-- Labels are decided on exact doubles; the stored averages and scores are rounded to 6 places.
CREATE TABLE IF NOT EXISTS ${db}.managed_smartcar_symptom_info (
  car_number          STRING,
  drive_events        INT,
  avg_speed_pedal     DECIMAL(12,6),
  speed_pedal_z       DECIMAL(12,6),
  speed_pedal_symptom STRING,
  avg_break_pedal     DECIMAL(12,6),
  break_pedal_z       DECIMAL(12,6),
  break_pedal_symptom STRING,
  sharp_turns         INT,
  sharp_turn_share    DECIMAL(12,6),
  sharp_turn_symptom  STRING
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT car_number,
       CAST(events AS INT),
       CAST(avg_speed AS DECIMAL(12,6)),
       CAST(z_speed AS DECIMAL(12,6)),
       CASE WHEN abs(z_speed) > ${z_threshold} THEN 'abnormal' ELSE 'normal' END,
       CAST(avg_brake AS DECIMAL(12,6)),
       CAST(z_brake AS DECIMAL(12,6)),
       CASE WHEN abs(z_brake) > ${z_threshold} THEN 'abnormal' ELSE 'normal' END,
       CAST(sharp AS INT),
       CAST(share AS DECIMAL(12,6)),
       CASE WHEN share > ${sharp_turn_share_threshold} THEN 'abnormal' ELSE 'normal' END
FROM (
  SELECT car_number, events, avg_speed, avg_brake, sharp,
         CAST(sharp AS DOUBLE) / events AS share,
         CASE WHEN sd_speed > 0 THEN (avg_speed - mean_speed) / sd_speed ELSE 0D END AS z_speed,
         CASE WHEN sd_brake > 0 THEN (avg_brake - mean_brake) / sd_brake ELSE 0D END AS z_brake
  FROM (
    -- the fleet statistics of the day over the per-car averages (one window over all cars)
    SELECT per_car.*,
           avg(avg_speed) OVER () AS mean_speed, stddev_pop(avg_speed) OVER () AS sd_speed,
           avg(avg_brake) OVER () AS mean_brake, stddev_pop(avg_brake) OVER () AS sd_brake
    FROM (
      SELECT car_number,
             count(*) AS events,
             avg(CAST(speed_pedal AS DOUBLE)) AS avg_speed,
             avg(CAST(break_pedal AS DOUBLE)) AS avg_brake,
             sum(CASE WHEN steer_angle IN ('L2', 'L3', 'R2', 'R3') THEN 1 ELSE 0 END) AS sharp
      FROM ${db}.managed_smartcar_drive_info
      WHERE biz_date = '${biz_date}'
      GROUP BY car_number
    ) per_car
  ) fleet
) scored;
