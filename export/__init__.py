"""The Sqoop-like exporter: a mart partition from HDFS into a typed PostgreSQL table."""

from export.plan import ExportRequest
from export.runner import ExportFailed, ExportResult, run_export

__all__ = ["ExportFailed", "ExportRequest", "ExportResult", "run_export"]
