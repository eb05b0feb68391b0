-- Recommendations of business date ${biz_date} (Spark MLlib ALS, analysis/recommend.py): for each
-- adult car of the month's purchase mart, the 3 items with the highest predicted score among those
-- it has not bought that month. The job registers the rows as the view ${source_view}.
CREATE TABLE IF NOT EXISTS ${db}.analysis_recommendations (
  car_number STRING,
  rank       INT,
  item       STRING,
  score      DOUBLE,
  segment    STRING
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT car_number, rank, item, score, segment FROM ${source_view};
