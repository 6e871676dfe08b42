"""``kind: form``: scanned paper complaint forms dropped into a folder by a scanner or a phone.

The transport is the generic watch folder (``ingest.adapters.folder``): complete files only,
each once (its SHA-256 is the external id), moved to ``processed/`` after the queue confirmed,
unreadable or oversized files moved to ``quarantine/`` with a reason. OCR and field extraction
are the normalizer's job (``normalizers.form``); it is CPU-heavy, so the plugin is
``cpu_bound`` and the runtime spreads files over a process pool, one file per core.

Example ``channels.yaml`` entry::

    - name: kotak-pengaduan
      kind: form
      path: /srv/scan/pengaduan      # where the scanner writes PNG/JPEG/TIFF/PDF
      settle_seconds: 10             # scanners write multi-page PDFs slowly
      min_confidence: 0.7            # below: published with a "periksa manual" note
      lang: ind+eng
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from ingest.adapter import Adapter, AdapterContext
from ingest.adapters.folder import FolderAdapter, FolderSettings, _Seen, read_dropped_files
from ingest.registry import ChannelPlugin, ChannelSettings
from normalizers.base import RawMessage
from normalizers.form import normalize

FORM_SUFFIXES = [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"]
_CONTENT_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
    ".pdf": "application/pdf",
}


class FormSettings(FolderSettings, ChannelSettings):
    kind: Literal["form"] = "form"
    suffixes: list[str] = Field(default_factory=lambda: list(FORM_SUFFIXES))
    lang: Annotated[str, Field(description="Tesseract languages, e.g. ind+eng")] = "ind+eng"
    psm: Annotated[int, Field(ge=0, le=13, description="Tesseract page segmentation mode")] = 3
    min_confidence: Annotated[
        float,
        Field(ge=0, le=1, description="reports read with less confidence get a review note"),
    ] = 0.7
    pdf_dpi: Annotated[int, Field(ge=72, le=600, description="PDF rendering resolution")] = 200
    max_side: Annotated[
        int, Field(ge=500, le=10_000, description="pages are downscaled to this many pixels")
    ] = 3508
    max_pages: Annotated[int, Field(gt=0, le=500)] = 20
    max_bytes: Annotated[
        int, Field(gt=0, description="larger files are quarantined unread (bounded memory)")
    ] = 50 * 1024 * 1024
    ocr_timeout: Annotated[float, Field(gt=0, description="seconds per page")] = 120.0


def _content_type(rel: Path) -> str:
    return _CONTENT_TYPES.get(rel.suffix.lower(), "application/octet-stream")


class FormFolderAdapter(FolderAdapter):
    """The watch folder, plus a size limit checked before a single byte is read."""

    def __init__(self, settings: FormSettings, ctx: AdapterContext) -> None:
        super().__init__(settings, ctx, content_type=_content_type, sidecar_suffixes=(".json",))
        self.max_bytes = settings.max_bytes

    def read(self, rel: Path) -> tuple[RawMessage, _Seen] | None:
        size = (self.root / rel).stat().st_size
        if size > self.max_bytes:
            # raised as OSError so the folder adapter quarantines the file with this reason
            raise OSError(
                f"{size} bytes is over the channel's max_bytes ({self.max_bytes}): "
                "rescan at 200-300 dpi in grayscale, or raise max_bytes"
            )
        return super().read(rel)


def _as_settings(settings: ChannelSettings | FormSettings) -> FormSettings:
    if isinstance(settings, FormSettings):
        return settings
    return FormSettings.model_validate(settings.model_dump())


def make_adapter(settings: ChannelSettings, ctx: AdapterContext) -> Adapter:
    conf = _as_settings(settings)
    conf = conf.model_copy(update={"path": ctx.resolve(conf.path)})
    return FormFolderAdapter(conf, ctx)


def read_files(path: Path, settings: ChannelSettings) -> Iterator[RawMessage]:
    """Scans under ``path`` for ``aduan import``."""
    return read_dropped_files(path, _as_settings(settings), FormFolderAdapter, settings.name)


PLUGIN = ChannelPlugin(
    kind="form",
    settings=FormSettings,
    normalize=normalize,
    adapter=make_adapter,
    read_files=read_files,
    cpu_bound=True,
)

__all__ = ["PLUGIN", "FormFolderAdapter", "FormSettings", "make_adapter", "read_files"]
