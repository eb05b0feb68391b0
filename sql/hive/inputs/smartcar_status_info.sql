-- Status log as the batch loader lands it: 14 comma-separated fields per line, the 13 status
-- fields of DOMAIN.md plus the collection date. The 14th field repeats the partition value and is
-- not declared (LazySimpleSerDe ignores trailing fields). Partition = collection date wrk_date.
-- Files whose names start with `_` or `.` are in-flight and ignored by Hive.
CREATE EXTERNAL TABLE IF NOT EXISTS ${db}.smartcar_status_info (
  reg_date   STRING COMMENT 'event time yyyyMMddHHmmss',
  car_number STRING,
  tire_fl    INT,
  tire_fr    INT,
  tire_bl    INT,
  tire_br    INT,
  light_fl   STRING COMMENT '1 OK, 2 fault',
  light_fr   STRING,
  light_bl   STRING,
  light_br   STRING,
  engine     STRING COMMENT 'A normal, B caution, C failure',
  `break`    STRING COMMENT 'brake; the original spelling',
  battery    INT
)
PARTITIONED BY (wrk_date STRING)
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
STORED AS TEXTFILE
LOCATION '${status_location}';
