"""Telemetry: simulator, record schemas, Kafka collectors and loaders."""
