"""`purlsim diagram SCENARIO --out FILE`: the scenario's network as a picture (and, with --map, its flows on a map)."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import app, fail, load_all_or_exit

FORMATS = (".svg", ".png")


@app.command()
def diagram(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    out: Path = typer.Option(..., "--out", help="Picture to write: FILE.svg or FILE.png."),
    route_map: bool = typer.Option(
        False, "--map", help="Draw the route map instead: nodes at their lat/lon, legs as wide as their tonnes a month."
    ),
    reps: int = typer.Option(5, "--reps", "-n", help="Replications behind the route map's flows (with --map)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Draw the structure of a scenario (nodes, legs, routes, lines, stockpiles, with capacities) as SVG or PNG."""
    if out.suffix.lower() not in FORMATS:
        fail(f"{out}: --out must end in .svg or .png")
    if out.exists() and not force:
        fail(f"{out}: exists; use --force to replace it")
    if out.exists() and out.is_dir():
        fail(f"{out}: is a directory")
    if reps < 1:
        fail(f"--reps must be at least 1 (got {reps})")
    [sc] = load_all_or_exit([scenario])
    from ..plots import base, network
    from ..report import write_atomic

    if route_map:
        import sim

        fig = network.route_map(sim.run(sc, reps=reps))
    else:
        fig = network.diagram(sc)
    data = base.svg_bytes(fig) if out.suffix.lower() == ".svg" else base.png_bytes(fig)
    write_atomic(out, data)
    typer.echo(f"Wrote {out}")
