"""What the long studies' commands (sensitivity, uncertainty) share: option checks, --resume, Ctrl-C, outputs."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

from ..cli import check_reps_seed, fail, load_or_exit


def check_study(scenario: Path, figure: str, item: str, inputs, seed, out: Path | None, resume: bool):
    """The loaded scenario, once the options every study shares are legal (else exit 2 with every problem)."""
    from ..experiments.checkpoint import partial_for
    from ..metrics import decision

    check_reps_seed(1, seed)
    if figure not in decision.FIGURES:
        fail(f"--metric: one of {', '.join(decision.FIGURES)} (got {figure})")
    if resume and out is None:
        fail("--resume: needs --out DIR, the output of the interrupted study")
    if out is not None and partial_for(out).exists() and not resume:
        fail(f"{partial_for(out)}: an unfinished study into {out} is there; finish it with --resume or remove it")
    sc = load_or_exit(scenario)
    declared = sc.uncertain
    if not declared:
        fail(f"{scenario}: uncertain: the scenario declares no uncertain inputs (see docs/decisions.md)")
    unknown = [x for x in inputs or [] if x not in declared]
    if unknown:
        fail(f"--input: not uncertain inputs of {scenario}: {', '.join(unknown)} (declared: {', '.join(declared)})")
    if item != "ALL" and item not in sc.items:
        fail(f"--item: {item} is not an item of {scenario}")
    if figure == decision.STOCKOUT and item not in sc.ukraine.items:
        fail(f"--item: p_stockout needs an item Ukraine keeps in {scenario} (ukraine.items; got {item})")
    return sc


def partial(out: Path | None) -> Path | None:
    """Where a study writing `out` keeps its finished blocks (None without --out: nothing kept)."""
    from ..experiments.checkpoint import partial_for

    return None if out is None else partial_for(out)


@contextmanager
def interrupts(out: Path | None):
    """Ctrl-C: exit 130, saying how to finish the study when blocks were kept; a partial that does not match: exit 2."""
    from ..experiments.checkpoint import StudyPartialError

    try:
        yield
    except StudyPartialError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        where = partial(out)
        if where is None:
            fail("interrupted (with --out DIR a study keeps its finished blocks and --resume finishes it)", code=130)
        n = len(list(where.glob("block_*.npy")))
        fail(f"interrupted: {n} finished block(s) kept in {where}; run the same command with --resume", code=130)


def write_uncertainty(u, out: Path, name: str) -> None:
    """uncertainty.json (the decomposition), points.csv (each outer point) and uncertainty.png, then the partial goes."""
    import shutil

    from .. import output
    from ..plots.decision import uncertainty_plot

    doc = {
        "scenario": name,
        **{k: v for k, v in u.attrs.items() if k != "resumed_blocks"},
        "mean": u.mean,
        "sd": u.sd,
        "var_inputs": u.var_inputs,
        "var_run": u.var_run,
        "share_inputs": u.share_inputs,
        "share_inputs_lo": u.share_lo,
        "share_inputs_hi": u.share_hi,
        "var_inputs_one_way": u.var_inputs_one_way,
    }
    with output.staged_dir(out, force=False) as tmp:
        (tmp / "uncertainty.json").write_text(json.dumps(doc, indent=2), encoding="utf-8")
        u.points.to_csv(tmp / "points.csv", index=False)
        uncertainty_plot(u).savefig(tmp / "uncertainty.png", dpi=100)
    where = partial(out)
    if where is not None and where.exists():
        shutil.rmtree(where)


def write_sensitivity(df, out: Path) -> None:
    """sensitivity.csv, sensitivity.json (what was run: method, sizes, figure, seed), sensitivity.png; then the partial goes."""
    import shutil

    from .. import output
    from ..plots.decision import sensitivity_plot

    with output.staged_dir(out, force=False) as tmp:
        df.to_csv(tmp / "sensitivity.csv", index=False)
        meta = {k: v for k, v in df.attrs.items() if k != "resumed_blocks"}
        (tmp / "sensitivity.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        sensitivity_plot(df).savefig(tmp / "sensitivity.png", dpi=100)
    where = partial(out)
    if where is not None and where.exists():
        shutil.rmtree(where)


def read_sensitivity(where: Path):
    """The table of a study written by `purlsim sensitivity --out DIR`, with what was run as its attrs; exits 2 if it is not one."""
    import pandas as pd

    try:
        df = pd.read_csv(where / "sensitivity.csv")
        df.attrs.update(json.loads((where / "sensitivity.json").read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        fail(f"{where}: --sensitivity: not a study written by purlsim sensitivity --out ({type(exc).__name__}: {exc})")
    if "input" not in df.columns or not ({"ST", "ST_lo", "ST_hi"} <= set(df.columns) or "mu_star" in df.columns):
        fail(f"{where}: --sensitivity: sensitivity.csv has not the columns of a Sobol or Morris study")
    return df
