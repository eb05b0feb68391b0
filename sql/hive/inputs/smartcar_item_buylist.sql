-- Monthly purchase lists (CarItemBuyList_<yyyyMM>.txt, `,`-delimited, no header).
CREATE EXTERNAL TABLE IF NOT EXISTS ${db}.smartcar_item_buylist (
  car_number STRING,
  item       STRING,
  score      INT,
  month      STRING COMMENT 'yyyyMM'
)
ROW FORMAT DELIMITED FIELDS TERMINATED BY ','
STORED AS TEXTFILE
LOCATION '${buylist_location}';
