"""Helpers of the tests and the benchmarks (never imported by the pilot's own packages).

``feed``     a simulated day straight into the Kafka topics (the loaders' input)
``devdata``  a simulated day in the batch loader's HDFS layout (the marts' input)
``hbase``    dropping a test or benchmark HBase table
"""
