"""Loaders: Kafka to HDFS (batch, exactly once per offset) and Kafka to HBase + Redis (real time).

Modules, one job each: ``batch`` / ``realtime`` (the two consumer loops), ``blocks`` and
``hdfs_names`` (which offsets go into which HDFS file, and recovering offsets from file names),
``hdfs_store`` / ``hbase_sink`` / ``redis_sink`` (the stores, with retries), ``alerts`` (reading
the overspeed alerts back from Redis), ``hbase_keys`` (row key design and "latest N events of a
car"), ``windows`` (event-time overspeed windows and safe commit offsets), ``kafka_source``,
``dead_letters``, ``reference``, ``report`` (what a run did), ``retry`` and ``cli``
(``pilot load ...``). Progress lines and the graceful stop are shared with the collectors
(:mod:`ingest.progress`, :mod:`ingest.stopping`).
"""
