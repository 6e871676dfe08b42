"""The HTTP intake service of ``aduan serve`` (SMS gateways, web intake, webhook channels)."""

from ingest.http.app import create_app

__all__ = ["create_app"]
