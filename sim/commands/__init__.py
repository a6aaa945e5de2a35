"""CLI commands beyond the core ones, one module per capability; each registers on `sim.cli.app`."""
