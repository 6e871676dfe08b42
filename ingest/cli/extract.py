"""``aduan train-classifier`` and ``aduan classify``: the complaint classifier from the shell."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ingest.classifier import (
    ClassifierError,
    default_classifier,
    load_model,
    read_rows,
    save_model,
)
from normalizers.base import Classifier
from normalizers.extract.classify import evaluate, train


def train_classifier(
    data: Annotated[Path, typer.Argument(help="labelled CSV with a header: text,category")],
    out: Annotated[Path, typer.Option("--out", "-o", help="where to write the model (.npz)")],
    evaluate_first: Annotated[
        bool,
        typer.Option(
            "--evaluate/--no-evaluate",
            help="report held-out accuracy (25% split) against the TF-IDF + SVM baseline",
        ),
    ] = True,
) -> None:
    """Train the category model on DATA.csv (point office.classifier_model at the result)."""
    try:
        with data.open(encoding="utf-8-sig", newline="") as handle:
            rows = read_rows(handle, str(data))
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {data}: {exc.strerror}") from exc
    except ClassifierError as exc:
        raise typer.BadParameter(str(exc)) from exc
    if evaluate_first:
        try:
            scores = evaluate(rows)
        except ValueError as exc:
            typer.echo(f"skipping evaluation: {exc}", err=True)
        else:
            typer.echo(
                f"held-out accuracy on {scores.test_size} of {len(rows)} rows: "
                f"model {scores.model:.3f}, baseline (TF-IDF + LinearSVC) {scores.baseline:.3f}",
                err=True,
            )
    try:
        model = train(rows)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    save_model(model, out)
    typer.echo(f"wrote {out} ({len(rows)} rows, categories: {', '.join(model.categories)})")


def classify(
    texts: Annotated[
        list[str], typer.Argument(help="texts to classify; '-' reads one text per line from stdin")
    ],
    model_path: Annotated[
        Path | None,
        typer.Option("--model", "-m", help="a model from train-classifier (default: built-in)"),
    ] = None,
) -> None:
    """Print one JSON object per text, one per line: {"category": ..., "severity": ...}."""
    try:
        model: Classifier = load_model(model_path) if model_path else default_classifier()
    except ClassifierError as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from exc

    def emit(text: str) -> None:
        category, severity = model.classify(text)
        sys.stdout.write(json.dumps({"category": category, "severity": severity}) + "\n")

    for text in texts:
        if text == "-":
            for line in sys.stdin:
                if line.strip():
                    emit(line.rstrip("\n"))
        else:
            emit(text)
    sys.stdout.flush()


def register(app: typer.Typer) -> None:
    app.command("train-classifier")(train_classifier)
    app.command("classify")(classify)
