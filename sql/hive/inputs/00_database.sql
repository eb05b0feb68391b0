-- The Hive database of the pilot's tables (`default` unless PILOT_HIVE_DATABASE says otherwise).
CREATE DATABASE IF NOT EXISTS ${db};
