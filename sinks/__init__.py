"""Sinks: the queue the normalized reports travel on, and the verification store behind it.

``sinks.queue`` publishes (RabbitMQ with publisher confirms, or the durable embedded SQLite
transport in ``sinks.embedded``); ``sinks.store`` consumes into the database described by
``sinks.models`` and migrated by ``sinks.db.migrate``; ``sinks.repository`` reads reports and moves
them through the SP4N-LAPOR! lifecycle; ``sinks.state`` keeps channel checkpoints and the
quarantine. Sinks know nothing of channels beyond their names.
"""
