-- Export target of analysis_style_features: each adult car's driving features of a day, its style
-- (ground truth and predicted) and the model version (issue 13); the prediction service reads it.
-- {table} is the target (schema.table), quoted by the exporter.
CREATE TABLE IF NOT EXISTS {table} (
  car_number            varchar(5) COLLATE "C" NOT NULL,
  avg_speed_pedal       double precision,
  speed_pedal_z         double precision,
  avg_break_pedal       double precision,
  break_pedal_z         double precision,
  sharp_turn_share      double precision,
  signal_disagree_share double precision,
  overspeed_windows     double precision,
  speed_mean            double precision,
  speed_std             double precision,
  speed_max             double precision,
  speed_p90             double precision,
  style                 varchar(8),
  split                 varchar(8),
  predicted             varchar(8),
  p_calm                double precision,
  p_normal              double precision,
  p_wild                double precision,
  model_version         varchar(64),
  biz_date              date NOT NULL,
  PRIMARY KEY (biz_date, car_number)
) PARTITION BY LIST (biz_date);
