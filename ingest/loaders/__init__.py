"""Loaders: Kafka to HDFS (batch, exactly once per offset) and Kafka to HBase + Redis (real time).

Modules, one job each: ``batch`` / ``realtime`` (the two consumer loops), ``blocks`` and
``hdfs_names`` (which offsets go into which HDFS file, and recovering offsets from file names),
``hdfs_store`` / ``hbase_sink`` / ``redis_sink`` (the stores, with retries), ``hbase_keys``
(row key design and "latest N events of a car"), ``windows`` (event-time overspeed windows and
safe commit offsets), ``kafka_source``, ``dead_letters``, ``reference``, ``progress``, ``retry``
and ``cli`` (``pilot load ...``).
"""
