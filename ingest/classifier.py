"""Loading, training and saving the complaint classifier (the file I/O half of it).

``normalizers.extract.classify`` builds and applies the model without touching files; this
module reads the labelled CSV (``text,category``) and model files. When the office's profile
names no model (``office.classifier_model`` in channels.yaml), the model is trained from the
labelled set shipped in ``normalizers/data/complaints.csv``, once per installation when a cache
directory is given (the pipeline's ``data_dir/models``), else once per process.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path

from normalizers.base import Classifier
from normalizers.extract.classify import (
    MODEL_FORMAT,
    LinearTextClassifier,
    ModelClassifier,
    train,
)
from normalizers.office import OfficeProfile

__all__ = [
    "ClassifierError",
    "ModelFile",
    "default_classifier",
    "load_classifier",
    "load_model",
    "read_rows",
    "save_model",
    "shipped_rows",
]

log = logging.getLogger(__name__)

_LEGACY_FORMAT = "aduan-classifier/1"  # joblib pickle of the scikit-learn pipeline


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


def _shipped_bytes() -> bytes:
    return resources.files("normalizers").joinpath("data/complaints.csv").read_bytes()


def _builtin_key() -> str:
    """Changes whenever the built-in model could: the shipped data, the model file format, the
    training code's version, scikit-learn's."""
    digest = hashlib.sha256(_shipped_bytes())
    for part in (MODEL_FORMAT, _version("aduan"), _version("scikit-learn"), _version("numpy")):
        digest.update(b"\0" + part.encode())
    return digest.hexdigest()[:20]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def default_classifier(cache_dir: Path | None = None) -> Classifier:
    """The model trained on the shipped set; cached because it never changes in a process.

    With ``cache_dir`` (the pipeline passes ``data_dir/models``) the compiled model is kept on
    disk, so only the first start of an installation pays for importing scikit-learn and
    training (~1.5 s); later starts read ~2 MB of arrays.
    """
    if cache_dir is None:
        return _builtin()
    path = cache_dir / f"builtin-{_builtin_key()}.npz"
    try:
        return _model_file(path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, ClassifierError) as exc:
        log.warning("ignoring the unreadable cached model %s (%s); retraining", path, exc)
    model = _builtin()
    try:
        _write_npz(model, path)
    except OSError as exc:  # a read-only data dir costs start-up time, nothing else
        log.warning("could not cache the built-in model in %s: %s", cache_dir, exc)
        return model
    return _model_file(path)


@cache
def _builtin() -> LinearTextClassifier:
    return train(shipped_rows()).compiled


@dataclass(frozen=True)
class ModelFile:
    """A compiled model known by its file and change stamp.

    What the pipeline hands to its worker processes: it pickles as a path (each worker reads
    the file once) instead of ~3 MB of arrays with every task.
    """

    path: str
    mtime_ns: int
    size: int

    @property
    def model(self) -> LinearTextClassifier:
        return _load_cached(self.path, self.mtime_ns, self.size)

    @property
    def categories(self) -> tuple[str, ...]:
        return self.model.categories

    def classify(self, text: str) -> tuple[str | None, str | None]:
        return self.model.classify(text)


def _model_file(path: Path) -> ModelFile:
    """The model file at ``path``, read (and checked) once per change stamp."""
    stat = path.stat()
    found = ModelFile(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    _ = found.model  # read it now: a broken file is reported here, not on the first message
    return _same(found)


@cache
def _same(found: ModelFile) -> ModelFile:
    return found  # one instance per file version, so callers can tell "unchanged" by identity


def _write_npz(model: LinearTextClassifier, path: Path) -> None:
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            np.savez(handle, **model.to_arrays())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)  # readers see the old file or the whole new one
    finally:
        tmp.unlink(missing_ok=True)


def _read_npz(path: Path) -> LinearTextClassifier:
    import numpy as np

    with np.load(path, allow_pickle=False) as arrays:
        return LinearTextClassifier.from_arrays({k: arrays[k] for k in arrays.files})


def save_model(model: ModelClassifier | LinearTextClassifier, path: Path) -> None:
    """Write the compiled model: NumPy arrays in a zip (``.npz``), no pickled code."""
    compiled = model.compiled if isinstance(model, ModelClassifier) else model
    _write_npz(compiled, path)


def load_model(path: Path) -> LinearTextClassifier:
    """A model file of ``aduan train-classifier``: this version's ``.npz``, or the joblib
    pickle of earlier versions (compiled on load; that needs scikit-learn)."""
    if not path.is_file():
        raise ClassifierError(
            f"classifier model {path} not found: create it with "
            "`aduan train-classifier DATA.csv --out MODEL` or remove classifier_model "
            "from channels.yaml to use the built-in model"
        )
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ClassifierError(f"cannot read classifier model {path}: {exc.strerror}") from exc
    if magic.startswith(b"PK"):
        try:
            return _read_npz(path)
        except (OSError, ValueError, KeyError) as exc:
            raise ClassifierError(
                f"{path} is not a readable classifier model ({exc}); retrain it with "
                "`aduan train-classifier`"
            ) from exc
    return _load_legacy(path)


def _load_legacy(path: Path) -> LinearTextClassifier:
    import joblib

    try:
        blob = joblib.load(path)
    except Exception as exc:  # joblib raises many kinds for a corrupt file
        raise ClassifierError(
            f"{path} is not a readable classifier model ({exc}); retrain it with "
            "`aduan train-classifier`"
        ) from exc
    if not isinstance(blob, dict) or blob.get("format") != _LEGACY_FORMAT:
        raise ClassifierError(f"{path} was not made by `aduan train-classifier`; retrain it")
    try:
        return ModelClassifier(blob["model"], tuple(blob["categories"])).compiled
    except (ValueError, AttributeError, IndexError, TypeError) as exc:
        raise ClassifierError(f"{path}: {exc}; retrain it with `aduan train-classifier`") from exc


def load_classifier(office: OfficeProfile, cache_dir: Path | None = None) -> Classifier:
    """The classifier for an office: its configured model file, else the built-in one.

    Callers may ask once per message; a model file is read again only when it changed.
    """
    if office.classifier_model:
        path = Path(office.classifier_model).expanduser()
        try:
            path.stat()
        except OSError:
            return load_model(path)  # raises the helpful "not found" error
        return _model_file(path)
    return default_classifier(cache_dir)


@cache
def _load_cached(path: str, mtime_ns: int, size: int) -> LinearTextClassifier:
    """Keyed by the file's identity and change stamp; models are read-only once loaded."""
    del mtime_ns, size
    return load_model(Path(path))
