-- Driving events as the batch loader lands them from Kafka: 8 comma-separated fields.
-- Partition = collection date wrk_date (an event may arrive in the next day's partition).
CREATE EXTERNAL TABLE IF NOT EXISTS ${db}.smartcar_drive_info (
  r_date       STRING COMMENT 'event time yyyyMMddHHmmss',
  car_number   STRING,
  speed_pedal  INT    COMMENT 'accelerator step 0-5',
  break_pedal  INT    COMMENT 'brake step 0-3',
  steer_angle  STRING COMMENT 'F, L1-L3, R1-R3',
  direct_light STRING COMMENT 'turn signal N, L, R',
  speed        INT    COMMENT 'km/h',
  area_number  STRING
)
PARTITIONED BY (wrk_date STRING)
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
STORED AS TEXTFILE
LOCATION '${drive_location}';
