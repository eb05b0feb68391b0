-- Export target of analysis_car_clusters: every adult car's k-means cluster and the profile it was
-- clustered on (issue 13). {table} is the target (schema.table), quoted by the exporter.
CREATE TABLE IF NOT EXISTS {table} (
  car_number    varchar(5) COLLATE "C" NOT NULL,
  cluster       smallint   NOT NULL,
  capacity_band varchar(8),
  year_band     varchar(8),
  car_model     varchar(1),
  sex           varchar(4),
  marriage      varchar(4),
  age_band      varchar(8),
  biz_date      date       NOT NULL,
  PRIMARY KEY (biz_date, car_number)
) PARTITION BY LIST (biz_date);
