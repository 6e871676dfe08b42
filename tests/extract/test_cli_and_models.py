"""`aduan train-classifier`, `aduan classify`, and model files (ingest.classifier)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingest.classifier import (
    ClassifierError,
    ModelFile,
    _builtin,
    default_classifier,
    load_classifier,
    load_model,
    save_model,
    shipped_rows,
)
from ingest.cli import build_app
from normalizers.extract.classify import LinearTextClassifier, train
from normalizers.office import DEFAULT_OFFICE, OfficeProfile, Region

DATA = Path(__file__).resolve().parents[2] / "normalizers" / "data" / "complaints.csv"


def test_builtin_model_is_trained_once_per_cache_dir(tmp_path: Path) -> None:
    import pickle

    import numpy as np

    cache = tmp_path / "models"
    first = default_classifier(cache)
    files = list(cache.glob("builtin-*.npz"))
    assert len(files) == 1
    assert isinstance(first, ModelFile) and first.path == str(files[0].resolve())
    assert default_classifier(cache) is first  # read from disk once
    again = pickle.loads(pickle.dumps(first))  # what a worker process receives
    assert len(pickle.dumps(first)) < 1000
    assert again.classify("jalan berlubang") == first.classify("jalan berlubang")
    for text, _ in shipped_rows()[::13]:
        assert np.array_equal(again.model.scores(text), _builtin().scores(text))
    files[0].write_bytes(b"PK broken")  # a damaged cache is retrained and replaced
    os.utime(files[0], ns=(1, 1))
    replaced = default_classifier(cache)
    assert replaced is not first
    assert replaced.classify("sampah numpuk") == ("lingkungan", "sedang")
    assert files[0].stat().st_size > 1000


def test_legacy_joblib_model_still_loads(tmp_path: Path) -> None:
    import joblib

    fitted = train([("jalan rusak", "jalan")] * 2 + [("banjir", "air")] * 2)
    path = tmp_path / "old.joblib"
    joblib.dump(
        {"format": "aduan-classifier/1", "model": fitted.model, "categories": fitted.categories},
        path,
    )
    loaded = load_model(path)
    assert isinstance(loaded, LinearTextClassifier)
    assert loaded.classify("jalan rusak parah")[0] == "jalan"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("model") / "model.joblib"
    result = CliRunner().invoke(
        build_app(), ["train-classifier", str(DATA), "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "held-out accuracy" in result.output and "baseline" in result.output
    assert out.is_file()
    return out


def test_classify_with_model_file(model_file: Path) -> None:
    result = CliRunner().invoke(
        build_app(),
        ["classify", "--model", str(model_file), "oknum lurah minta uang rokok", "jln rusak bgt"],
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"category": "pungli_korupsi", "severity": "berat"},
        {"category": "infrastruktur", "severity": "sedang"},
    ]


def test_classify_stdin_with_builtin_model() -> None:
    result = CliRunner().invoke(
        build_app(),
        ["classify", "-"],
        input="terima kasih pak camat\n\nsampah numpuk di tps\n",
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [
        {"category": "informasi", "severity": "ringan"},
        {"category": "lingkungan", "severity": "sedang"},
    ]


def test_classify_missing_model_says_what_to_do(tmp_path: Path) -> None:
    result = CliRunner().invoke(build_app(), ["classify", "--model", str(tmp_path / "x"), "a"])
    assert result.exit_code != 0
    assert "train-classifier" in result.output


def test_train_rejects_a_csv_without_header(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("jalan rusak,infrastruktur\n", encoding="utf-8")
    result = CliRunner().invoke(build_app(), ["train-classifier", str(bad), "--out", "m"])
    assert result.exit_code != 0
    assert "text,category" in result.output


def test_saved_model_round_trip(tmp_path: Path) -> None:
    model = train([("jalan rusak", "jalan")] * 2 + [("banjir", "air")] * 2)
    path = tmp_path / "sub" / "m.joblib"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.categories == ("air", "jalan")
    assert loaded.classify("jalan rusak parah")[0] == "jalan"


def test_foreign_joblib_is_refused(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"something": 1}, path)
    with pytest.raises(ClassifierError, match="retrain"):
        load_model(path)
    path.write_bytes(b"not a pickle")
    with pytest.raises(ClassifierError, match="retrain"):
        load_model(path)


def test_load_classifier_for_an_office(model_file: Path) -> None:
    assert load_classifier(DEFAULT_OFFICE) is default_classifier()
    office = OfficeProfile(
        name="x", region=Region(province="Jawa Barat"), classifier_model=str(model_file)
    )
    loaded = load_classifier(office)
    assert loaded.classify("sampah numpuk") == ("lingkungan", "sedang")


def test_shipped_rows_are_clean() -> None:
    rows = shipped_rows()
    assert len({t for t, _ in rows}) == len(rows)  # no duplicated texts
    assert all(t.strip() == t and t for t, _ in rows)


def test_model_file_is_read_once_until_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    save_model(train([("jalan rusak", "jalan")] * 2 + [("banjir", "air")] * 2), path)
    office = OfficeProfile(name="x", region=Region(province="Bali"), classifier_model=str(path))
    first = load_classifier(office)
    assert load_classifier(office) is first
    save_model(train([("jalan rusak", "jalan")] * 2 + [("sampah", "kotor")] * 2), path)
    import os

    os.utime(path, ns=(1, 1))  # a different change stamp, whatever the clock's resolution
    second = load_classifier(office)
    assert second is not first
    assert second.categories == ("jalan", "kotor")
    assert load_classifier(office) is second
