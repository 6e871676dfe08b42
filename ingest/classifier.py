"""Loading, training and saving the complaint classifier (the file I/O half of it).

``normalizers.extract.classify`` builds and applies the model without touching files; this
module reads the labelled CSV (``text,category``) and joblib model files. When the office's
profile names no model (``office.classifier_model`` in channels.yaml), the model is trained
from the labelled set shipped in ``normalizers/data/complaints.csv``; that takes well under a
second and happens once per process.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path

from normalizers.base import Classifier
from normalizers.extract.classify import ModelClassifier, train
from normalizers.office import OfficeProfile

__all__ = [
    "ClassifierError",
    "default_classifier",
    "load_classifier",
    "load_model",
    "read_rows",
    "save_model",
    "shipped_rows",
]

_FORMAT = "aduan-classifier/1"


class ClassifierError(RuntimeError):
    """A model or training file that cannot be used; the message says what to do."""


def read_rows(source: Iterable[str], name: str = "<data>") -> list[tuple[str, str]]:
    """(text, category) rows of a CSV with a header naming at least ``text`` and ``category``."""
    reader = csv.DictReader(source)
    fields = {f.strip().lower(): f for f in (reader.fieldnames or [])}
    if "text" not in fields or "category" not in fields:
        raise ClassifierError(
            f"{name}: the first line must be a header with columns text,category "
            f"(found {reader.fieldnames})"
        )
    rows = []
    for record in reader:
        text = (record.get(fields["text"]) or "").strip()
        label = (record.get(fields["category"]) or "").strip()
        if text and label:
            rows.append((text, label))
    if not rows:
        raise ClassifierError(f"{name}: no rows with both text and category")
    return rows


def shipped_rows() -> list[tuple[str, str]]:
    """The labelled Indonesian complaint set that ships with the project."""
    data = resources.files("normalizers").joinpath("data/complaints.csv").read_text("utf-8")
    return read_rows(io.StringIO(data), "normalizers/data/complaints.csv")


@cache
def default_classifier() -> ModelClassifier:
    """The model trained on the shipped set; cached because it never changes in a process and
    a fitted scikit-learn pipeline is only read by ``predict`` (safe to share)."""
    return train(shipped_rows())


def save_model(model: ModelClassifier, path: Path) -> None:
    import joblib

    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump({"format": _FORMAT, "model": model.model, "categories": model.categories}, path)


def load_model(path: Path) -> ModelClassifier:
    import joblib

    if not path.is_file():
        raise ClassifierError(
            f"classifier model {path} not found: create it with "
            "`aduan train-classifier DATA.csv --out MODEL` or remove classifier_model "
            "from channels.yaml to use the built-in model"
        )
    try:
        blob = joblib.load(path)
    except Exception as exc:  # joblib raises many kinds for a corrupt file
        raise ClassifierError(
            f"{path} is not a readable classifier model ({exc}); retrain it with "
            "`aduan train-classifier`"
        ) from exc
    if not isinstance(blob, dict) or blob.get("format") != _FORMAT:
        raise ClassifierError(f"{path} was not made by `aduan train-classifier`; retrain it")
    return ModelClassifier(blob["model"], tuple(blob["categories"]))


def load_classifier(office: OfficeProfile) -> Classifier:
    """The classifier for an office: its configured model file, else the built-in one.

    Callers may ask once per message; a model file is read again only when it changed.
    """
    if office.classifier_model:
        path = Path(office.classifier_model).expanduser()
        try:
            stat = path.stat()
        except OSError:
            return load_model(path)  # raises the helpful "not found" error
        return _load_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    return default_classifier()


@cache
def _load_cached(path: str, mtime_ns: int, size: int) -> ModelClassifier:
    """Keyed by the file's identity and change stamp; models are read-only once loaded."""
    del mtime_ns, size
    return load_model(Path(path))
