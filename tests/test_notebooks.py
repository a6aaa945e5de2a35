"""Every notebook in notebooks/ runs top to bottom without error (small replication count), and is committed without outputs."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = [
    "01_quickstart.ipynb",
    "02_compare_policies.ipynb",
    "03_sensitivity.ipynb",
    "04_replay_2025.ipynb",
    "05_decisions.ipynb",
]
REPS = "2"


# Columns of the tables before the censoring-aware headline (sim.metrics): a notebook reading one
# would fail, or worse, show a figure over delivered lots as if it were the headline.
OLD_COLUMNS = re.compile(
    r"""["'](mean|mean_lo|mean_hi|p50|p90|p95|diff_mean|diff_lo|diff_hi|diff_reps|"""
    r"""undelivered|undelivered_per_rep|gap_mean|gap_mean_lo|gap_mean_hi|gap_max)["']"""
)


def test_the_five_notebooks_are_there():
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: clear outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_reads_no_column_of_the_old_headline(path):
    nb = nbformat.read(path, as_version=4)
    found = [
        (k, m.group(0)) for k, c in enumerate(nb.cells) if c.cell_type == "code" for m in OLD_COLUMNS.finditer(c.source)
    ]
    assert found == [], f"{path.name}: cells reading old columns (cell, column): {found}"


def test_the_checker_of_old_columns_finds_them():
    assert OLD_COLUMNS.search('summary[["lots", "mean", "p90"]]') and OLD_COLUMNS.search("r['diff_mean']")
    assert not OLD_COLUMNS.search('summary[["delivered_mean", "ttd_p50", "rmst", "diff_rmst"]]')


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    # The kernel inherits this environment: a small replication count, and this interpreter's
    # kernel (jupyter_client starts the "python3" kernel spec with sys.executable).
    monkeypatch.setenv("PURLSIM_NOTEBOOK_REPS", REPS)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", allow_errors=False, resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback, on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the notebook shows at least one plot"
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert f"{REPS} replications per run" in printed
    if path.stem == "03_sensitivity":  # the lever check states its result in numbers, whatever it is
        levers = [line for line in printed.splitlines() if "; expected " in line]
        assert len(levers) == 7 and all(
            re.search(
                r"[+-]\d+\.\d\d days .*: (as expected|within noise|against "
                r"expectation)\.$",
                line,
            )
            for line in levers
        ), levers
        assert "No lever moves PAC-3 MSE" in printed or "against expectation at the 95% level" in printed
