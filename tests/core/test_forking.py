"""Children of ``aduan run`` start from a fork server that already imported what they need."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.core.test_pipeline_archive import email_config

PROBE = textwrap.dedent(
    """
    import gc
    import sys
    from ingest.config import load_config
    from ingest.pipeline import Pipeline

    def loaded():
        names = [m for m in sys.modules if m.startswith(("normalizers.", "sinks.", "holidays"))]
        return sorted(names) + [f"frozen={gc.get_freeze_count()}"]

    if __name__ == "__main__":
        cfg = load_config(sys.argv[1], env={})
        with Pipeline.open(cfg) as pipeline:
            if pipeline.cpu_pool is None:  # one CPU: no worker processes at all
                sys.exit(3)
            print("\\n".join(pipeline.cpu_pool.submit(loaded).result()))
    """
)


def test_a_worker_has_the_normalizer_modules_before_its_first_task(tmp_path: Path) -> None:
    config = email_config(tmp_path)
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(probe), str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    if done.returncode == 3:
        pytest.skip("one CPU: the pipeline starts no worker processes")
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    # the email normalizer, the shared enrichment with its holiday calendars, the store
    assert {"normalizers.email", "normalizers.enrich", "normalizers.extract.sla"} <= loaded
    assert {"sinks.store", "holidays"} <= loaded
    # what it loaded is left out of the garbage collector's scans (``freeze_heap``)
    [frozen] = [int(w.split("=")[1]) for w in loaded if w.startswith("frozen=")]
    assert frozen > 10_000
