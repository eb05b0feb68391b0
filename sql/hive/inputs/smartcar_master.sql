-- Car master (CarMaster.txt, `|`-delimited, no header).
CREATE EXTERNAL TABLE IF NOT EXISTS ${db}.smartcar_master (
  car_number   STRING,
  sex          STRING,
  age          INT,
  marriage     STRING,
  region       STRING,
  job          STRING,
  car_capacity INT,
  car_year     INT,
  car_model    STRING
)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '|'
STORED AS TEXTFILE
LOCATION '${master_location}';
