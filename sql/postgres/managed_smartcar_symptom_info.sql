-- Export target of mart 3 (managed_smartcar_symptom_info): abnormal driving per car and day
-- (the original pilot's Sqoop target, with typed columns instead of text).
-- {table} is the target (schema.table), quoted by the exporter. One list partition per business date.
-- Key columns use COLLATE "C": they are ASCII codes, and byte order makes their index cheaper to build.
CREATE TABLE IF NOT EXISTS {table} (
  car_number          varchar(5) COLLATE "C" NOT NULL,
  drive_events        integer,
  avg_speed_pedal     numeric(12,6),
  speed_pedal_z       numeric(12,6),
  speed_pedal_symptom varchar(8),
  avg_break_pedal     numeric(12,6),
  break_pedal_z       numeric(12,6),
  break_pedal_symptom varchar(8),
  sharp_turns         integer,
  sharp_turn_share    numeric(12,6),
  sharp_turn_symptom  varchar(8),
  biz_date            date          NOT NULL,
  PRIMARY KEY (biz_date, car_number)
) PARTITION BY LIST (biz_date);
