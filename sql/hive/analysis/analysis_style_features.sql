-- The driving-style model's view of business date ${biz_date} (Spark MLlib multilayer perceptron,
-- analysis/style.py): every adult car's features, its style in the simulator's ground truth, its
-- split (train / test), the predicted style with the class probabilities and the model version.
-- The prediction service looks a car's day up in its PostgreSQL export.
CREATE TABLE IF NOT EXISTS ${db}.analysis_style_features (
  car_number            STRING,
  avg_speed_pedal       DOUBLE,
  speed_pedal_z         DOUBLE,
  avg_break_pedal       DOUBLE,
  break_pedal_z         DOUBLE,
  sharp_turn_share      DOUBLE,
  signal_disagree_share DOUBLE,
  overspeed_windows     DOUBLE,
  speed_mean            DOUBLE,
  speed_std             DOUBLE,
  speed_max             DOUBLE,
  speed_p90             DOUBLE,
  style                 STRING,
  split                 STRING,
  predicted             STRING,
  p_calm                DOUBLE,
  p_normal              DOUBLE,
  p_wild                DOUBLE,
  model_version         STRING
)
PARTITIONED BY (biz_date STRING)
ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe'
WITH SERDEPROPERTIES ('field.delim' = '\t', 'escape.delim' = '\\',
                      'serialization.escape.crlf' = 'true', 'serialization.null.format' = '\\N')
STORED AS TEXTFILE;

INSERT OVERWRITE TABLE ${db}.${build_table} PARTITION (biz_date = '${biz_date}')
SELECT car_number, avg_speed_pedal, speed_pedal_z, avg_break_pedal, break_pedal_z, sharp_turn_share, signal_disagree_share, overspeed_windows, speed_mean, speed_std, speed_max, speed_p90,
       style, split, predicted, p_calm, p_normal, p_wild, model_version
FROM ${source_view};
