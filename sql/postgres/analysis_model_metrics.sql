-- Export target of analysis_model_metrics: one value per model, metric and business date
-- (issue 13). {table} is the target (schema.table), quoted by the exporter.
CREATE TABLE IF NOT EXISTS {table} (
  model    varchar(32) COLLATE "C" NOT NULL,
  metric   varchar(64) COLLATE "C" NOT NULL,
  value    double precision,
  biz_date date        NOT NULL,
  PRIMARY KEY (biz_date, model, metric)
) PARTITION BY LIST (biz_date);
