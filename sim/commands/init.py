"""`purlsim init DIR`: a starter project for someone who installed purlsim, outside its repository.

It copies `sim/data/starter/` (a scenario extending the shipped common base, a test using the
`delivery_baseline` fixture, a notebook, a README) and writes the scenario JSON Schema the
scenario's editor modeline points at. It never overwrites: a file already there is an error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import typer

from ..cli import app, fail, out_console
from ..scenario.file_schema import schema_text
from ..scenario.shipped import STARTER_DIR

SCHEMA_NAME = "purlsim.schema.json"


def starter_files() -> list[Path]:
    """The starter project's files, relative to its folder."""
    return sorted(
        p.relative_to(STARTER_DIR) for p in STARTER_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )


@app.command()
def init(directory: Path = typer.Argument(..., help="Folder of the new project (created if missing).")):
    """Copy a starter project: a scenario extending the shipped base, a baseline test, a notebook."""
    files = starter_files()
    if not files:
        fail(f"{STARTER_DIR}: the starter project is missing from this installation of purlsim")
    if directory.exists() and not directory.is_dir():
        fail(f"{directory}: exists and is not a folder")
    taken = [directory / f for f in [*files, Path(SCHEMA_NAME)] if (directory / f).exists()]
    if taken:
        fail([f"{p}: already exists; purlsim init never overwrites (choose another folder)" for p in taken])
    for f in files:
        (directory / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STARTER_DIR / f, directory / f)
    (directory / SCHEMA_NAME).write_text(schema_text(), encoding="utf-8")
    out_console.print(
        f"created {directory}: {len(files) + 1} files. Next:\n"
        f"  cd {directory}\n"
        f"  purlsim validate scenarios/my_scenario.yaml\n"
        f"  pytest --purlsim-record      # records tests/baselines/my_scenario.json\n"
        f"  pytest                       # fails when delivery times move"
    )
