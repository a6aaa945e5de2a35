"""Files that ship inside the purlsim package, and the `purlsim:` reference that names them.

The package carries, under `sim/data/`: the shipped scenarios (`scenarios/`, with the common base
`scenarios/common/base.yaml` and the sourced figures in `scenarios/data/`), the notebooks and their
data (`notebooks/`), the JSON Schema of a scenario file (`scenario.schema.json`) and the starter
project that `purlsim init` copies (`starter/`). In a source checkout `sim/data/scenarios` and
`sim/data/notebooks` are links to the repository's `scenarios/` and `notebooks/`, so there is one
copy of each file; the wheel holds the files themselves.

A scenario outside the repository extends a shipped one with `extends: purlsim:common/base.yaml`:
the part after `purlsim:` is a path inside the shipped scenarios folder.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

SCHEME = "purlsim:"
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SCENARIOS_DIR = DATA_DIR / "scenarios"
NOTEBOOKS_DIR = DATA_DIR / "notebooks"
SCHEMA_FILE = DATA_DIR / "scenario.schema.json"
STARTER_DIR = DATA_DIR / "starter"


def is_reference(text: str) -> bool:
    """True when an `extends:` value names a shipped scenario (`purlsim:...`)."""
    return text.startswith(SCHEME)


def shipped_scenarios() -> list[str]:
    """The shipped scenario files, as the names `purlsim:` takes (`baseline.yaml`, `common/base.yaml`)."""
    if not SCENARIOS_DIR.is_dir():
        return []
    return sorted(p.relative_to(SCENARIOS_DIR).as_posix() for p in SCENARIOS_DIR.rglob("*.yaml"))


def resolve_reference(text: str) -> Path:
    """The file a `purlsim:NAME` reference names; ValueError with a one-line reason if there is none."""
    name = text[len(SCHEME) :].strip()
    parts = PurePosixPath(name).parts
    if not name or name.startswith("/") or "\\" in name or ".." in parts:
        raise ValueError(
            f"'{text}' is not a shipped scenario: give a path inside purlsim's scenarios folder, "
            f"e.g. {SCHEME}common/base.yaml"
        )
    path = SCENARIOS_DIR.joinpath(*parts)
    if not path.is_file():
        known = ", ".join(shipped_scenarios()) or "none found: the package has no scenarios folder"
        raise ValueError(f"no shipped scenario '{name}' in purlsim (shipped: {known})")
    return path
