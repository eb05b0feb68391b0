-- Export target of mart 4 (managed_smartcar_emergency_check_info): cars needing inspection.
-- {table} is the target (schema.table), quoted by the exporter. One list partition per business date.
-- Key columns use COLLATE "C": they are ASCII codes, and byte order makes their index cheaper to build.
CREATE TABLE IF NOT EXISTS {table} (
  car_number    varchar(5) COLLATE "C" NOT NULL,
  status_events integer,
  avg_tire_fl   numeric(12,6),
  avg_tire_fr   numeric(12,6),
  avg_tire_bl   numeric(12,6),
  avg_tire_br   numeric(12,6),
  avg_battery   numeric(12,6),
  tire_check    boolean,
  light_check   boolean,
  engine_check  boolean,
  brake_check   boolean,
  battery_check boolean,
  check_count   smallint,
  checks        varchar(80),
  biz_date      date          NOT NULL,
  PRIMARY KEY (biz_date, car_number)
) PARTITION BY LIST (biz_date);
