"""A report as the queue carries it, apart from kombu: pipeline worker processes seal the
reports they make (``ingest.normalizing``) without importing a queue client."""

from __future__ import annotations

from dataclasses import dataclass

from normalizers.record import Report


def routing_key(report: Report) -> str:
    """``report.{channel.kind}.{category or "uncategorized"}``, kept a valid AMQP routing key:
    a dot inside a category would add a topic level, so it becomes ``_``, and the key is cut to
    AMQP's 255-byte limit."""
    category = (report.category or "uncategorized").replace(".", "_")
    key = f"report.{report.channel.kind.value}.{category}"
    return key.encode("utf-8")[:255].decode("utf-8", "ignore")


@dataclass(frozen=True, slots=True)
class Envelope:
    """A report as the queue carries it: its wire form, routing key and message id.

    What a pipeline worker process hands back instead of the ``Report`` itself: a few bytes
    to pickle instead of a tree of models, and the serialization done where it is parallel.
    """

    body: bytes
    routing_key: str
    message_id: str

    @classmethod
    def of(cls, report: Report) -> Envelope:
        return cls(report.to_json().encode("utf-8"), routing_key(report), str(report.id))

    def report(self) -> Report:
        return Report.from_json(self.body)
