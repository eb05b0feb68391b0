-- Export target of analysis_cluster_profiles: each cluster's size and most common profile values
-- (issue 13). {table} is the target (schema.table), quoted by the exporter.
CREATE TABLE IF NOT EXISTS {table} (
  cluster       smallint NOT NULL,
  cars          integer  NOT NULL,
  capacity_band varchar(8),
  year_band     varchar(8),
  car_model     varchar(1),
  sex           varchar(4),
  marriage      varchar(4),
  age_band      varchar(8),
  description   text,
  biz_date      date     NOT NULL,
  PRIMARY KEY (biz_date, cluster)
) PARTITION BY LIST (biz_date);
