"""Kafka collectors: the role Flume had in the original pilot.

``spool``  status files dropped into a directory -> ``smartcar-status`` (:mod:`.spool`)
``tail``   a growing driving log, like ``tail -F`` -> ``SmartCar-Topic`` (:mod:`.tail`)
``live``   the simulator straight into ``SmartCar-Topic`` (:mod:`.live`)

Every collector validates each line with :mod:`ingest.records`, sends bad lines to the
dead-letter topic with their reason (:mod:`ingest.dlq`) and returns a :class:`.report.CollectReport`
whose counts reconcile exactly: read = produced + rejected.

Delivery (:mod:`.outbox`): records are handed to kafka-python in batches ("tickets"); a ticket
counts as delivered only when the broker acknowledged every record of it (``acks=all``). Records
the broker did not confirm are sent again after Kafka is back, so nothing is lost and only
records of an unconfirmed batch can arrive twice — loaders deduplicate them by event id
(``ingest.records.status_event_id`` / ``drive_event_id``). Checkpoints (:mod:`.checkpoint`) only
move after a ticket is confirmed.
"""

from ingest.collectors.report import CollectReport, ReconcileError

__all__ = ["CollectReport", "ReconcileError"]
