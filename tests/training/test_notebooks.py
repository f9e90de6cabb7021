"""The notebooks run top to bottom on the shipped data, so they never rot."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("SENTRA_DATA_DIR", str(tmp_path / "sentra"))
    monkeypatch.delenv("SENTRA_MLFLOW_TRACKING_URI", raising=False)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    last = notebook.cells[-1].outputs[0]["data"]["text/plain"]
    assert "sentra-checkout/1" in last  # the strict version is the one promoted
