-- Export target of analysis_recommendations: each adult car's top 3 items not bought that month
-- (ALS, issue 13). {table} is the target (schema.table), quoted by the exporter. One list
-- partition per business date.
CREATE TABLE IF NOT EXISTS {table} (
  car_number varchar(5)  COLLATE "C" NOT NULL,
  rank       smallint    NOT NULL,
  item       varchar(16) NOT NULL,
  score      double precision,
  segment    varchar(16),
  biz_date   date        NOT NULL,
  PRIMARY KEY (biz_date, car_number, rank)
) PARTITION BY LIST (biz_date);
