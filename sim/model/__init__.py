"""The model: one module per domain part, wired together for one replication.

`run_replication(scenario, seed, rep)` builds a fresh kernel (the SimPy environment, see
kernel.py; `reference=True` for plain SimPy), wires the parts in the order of the flow
(requests -> approval -> funding -> coordination -> sourcing -> transport through its nodes),
runs to the horizon, checks the invariants and returns plain columns (cheap to pickle between
processes). Each part is built from its own section of the scenario and the replication's
Context (context.py); the sources of the sourcing policy come from the registry in sources.py.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

from ..recorder import Recorder
from ..scenario.schema import Scenario
from ..streams import Streams
from . import invariants, kernel, sources
from .approval import Approval
from .availability import AvailabilityCheck
from .backfill import Backfill
from .context import Context
from .coordination import Coordination
from .disruptions import Disruptions
from .flow import Flow
from .funding import Funding
from .nodes import Nodes
from .production import ProductionLine
from .requests import Requests
from .sourcing import Sourcing
from .stockpiles import Stockpiles
from .switchboard import Switchboard
from .transport import Transport
from .ukraine import UkraineStock
from .us_stock import USStock

BIG_REPLICATION = 100_000  # delivery rows from which a replication's garbage is collected at once (~50 ms)


@contextmanager
def gc_paused():
    """Pause CPython's cyclic collector while a replication builds millions of long-lived records.

    The collector would rescan them again and again (it tripled the run time); reference
    counting still frees whatever the run drops, and the collector resumes on exit.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class Model:
    """All parts of one replication, wired; `run()` to the horizon."""

    def __init__(self, scenario: Scenario, seed: int, rep: int, record_events: bool = True, reference: bool = False):
        self.scenario = scenario
        env = self.env = kernel.make(reference)
        streams = self.streams = Streams(seed, rep)
        rec = self.recorder = Recorder(events=record_events, horizon=scenario.horizon_days)
        switch = self.switch = Switchboard(env)

        ctx = self.ctx = Context(env, streams, rec, switch, scenario.day, scenario.horizon_days)
        unit_cost = {k: v.unit_cost_musd for k, v in scenario.items.items()}

        # Built in this order: parts that record a level at day 0 do so in it, which is the order
        # of the levels table.
        self.lines = {lid: ProductionLine(ctx, lid, spec) for lid, spec in scenario.production.items()}
        self.lines_by_item: dict[str, ProductionLine] = {}
        for line in self.lines.values():
            if line.item not in self.lines_by_item:  # the first line listed for an item takes PURL orders
                self.lines_by_item[line.item] = line
                line.takes_orders = True
        self.us_stock = USStock(ctx, scenario.us_stock)
        self.stockpiles = Stockpiles(ctx, scenario.stockpiles)
        handled = any(node.handling is not None for node in scenario.transport.nodes.values())
        weight = {k: v.weight_t or 0.0 for k, v in scenario.items.items()}  # tonnes per unit (validated where needed)
        self.nodes = Nodes(ctx, scenario.transport, weight) if handled else None
        self.transport = Transport(ctx, scenario.transport, self.nodes, scenario.items)
        self.backfill = Backfill(ctx, scenario.policy, self.lines_by_item, self.stockpiles, unit_cost)
        self.sources = sources.build(scenario.policy.sources, self)
        self.sourcing = Sourcing(ctx, scenario.policy, self.sources)
        self.approval = Approval(ctx, scenario.approval)
        self.funding = Funding(ctx, scenario.funding, unit_cost)
        self.availability = AvailabilityCheck(
            ctx, scenario.approval.availability, self.us_stock, self.lines_by_item, unit_cost
        )
        self.ukraine = UkraineStock(ctx, scenario.ukraine)
        spec = scenario.coordination
        self.coordination = Coordination(ctx, spec) if spec is not None else None
        self.flow = Flow(
            ctx,
            self.approval,
            self.funding,
            self.sourcing,
            self.transport,
            self.availability,
            self.ukraine,
            self.coordination,
        )
        self.transport.reorder = self.flow.reorder  # a lot lost in transit goes back through sourcing
        self.disruptions = Disruptions(ctx, scenario.disruptions, self)
        self.requests = Requests(ctx, scenario.requests, unit_cost, self.flow.submit)

    def parts(self) -> list:
        """Every part with an end-of-run check (`check(finished)`), each checking only its own state."""
        found = [self.requests, self.us_stock, self.sourcing]
        found += [src for src in self.sources if hasattr(src, "check") and src not in found]
        found += [self.backfill, self.stockpiles, *self.lines.values(), self.funding, self.transport]
        found += [self.coordination] if self.coordination is not None else []
        return found + [self.ukraine, self.switch]

    def run(self) -> dict:
        """Run to the horizon, check invariants, return the recorder's tables."""
        with gc_paused():
            self.env.run(until=self.scenario.horizon_days)
            self.ukraine.finish()
            for req in self.flow.waiting.values():
                for item, qty in req.lines:
                    self.recorder.pending_lines.append((req, item, qty))
            # A big replication's tables are built once (its marks freed as soon as they are days).
            tables = self.recorder.tables(release_marks=len(self.recorder.lots) >= BIG_REPLICATION)
            invariants.check(self, tables["deliveries"])
            return tables

    def dispose(self) -> None:
        """Drop the replication's records and pending events once its tables are built.

        The parts refer to each other in cycles, so without this the whole replication (millions
        of records) would wait for the cyclic collector, which then scans all of it at once.
        """
        self.recorder.clear()
        self.env.drop_pending()


def run_replication(
    scenario: Scenario, seed: int, rep: int, record_events: bool = True, reference: bool = False
) -> dict:
    """One replication's tables as columns (cheap to pickle between processes); `reference`: on plain SimPy."""
    model = Model(scenario, seed, rep, record_events, reference)
    tables = model.run()
    model.dispose()
    if len(tables["deliveries"]["lot_id"]) >= BIG_REPLICATION:
        # The parts refer to each other in cycles, and the collector is paused (gc_paused) until
        # the chunk's tables are built: collect a big replication's parts now, so the memory of
        # its records goes back to the system before the tables are built beside it.
        del model
        gc.collect()
    return tables
