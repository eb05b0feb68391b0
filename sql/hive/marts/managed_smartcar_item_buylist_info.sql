-- Mart 5: the purchases of month ${biz_month} joined with the adult owner profile.
-- A car may buy the same item several times in a month: every purchase row is kept.
CREATE TABLE IF NOT EXISTS ${db}.managed_smartcar_item_buylist_info (
  car_number   STRING,
  item         STRING,
  score        INT,
  sex          STRING,
  age          INT,
  marriage     STRING,
  region       STRING,
  job          STRING,
  car_capacity INT,
  car_year     INT,
  car_model    STRING
)
PARTITIONED BY (biz_month STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_month = '${biz_month}')
SELECT b.car_number, b.item, b.score,
       m.sex, m.age, m.marriage, m.region, m.job, m.car_capacity, m.car_year, m.car_model
FROM ${db}.smartcar_item_buylist b
JOIN ${db}.smartcar_master_over18 m ON m.car_number = b.car_number
WHERE b.month = '${biz_month}';
