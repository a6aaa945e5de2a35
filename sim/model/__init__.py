"""The model: one module per domain part, wired together for one replication.

`run_replication(scenario, seed, rep)` builds a fresh kernel (the SimPy environment, see
kernel.py; `reference=True` for plain SimPy), wires the parts in the order of the flow
(requests -> approval -> funding -> sourcing -> transport), runs to the horizon, checks the
invariants and returns plain columns (cheap to pickle between processes).
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

from ..recorder import Recorder
from ..scenario.schema import Scenario
from ..streams import Streams
from . import invariants, kernel
from .approval import Approval
from .backfill import Backfill
from .disruptions import Disruptions, Switchboard
from .flow import Flow
from .funding import Funding
from .production import ProductionLine
from .requests import Requests
from .sourcing import Sourcing
from .stockpiles import Stockpiles
from .transport import Transport
from .us_stock import USStock


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

        self.lines = {
            lid: ProductionLine(env, lid, spec, scenario, streams, rec, switch)
            for lid, spec in scenario.production.items()
        }
        lines_by_item: dict[str, ProductionLine] = {}
        for line in self.lines.values():
            lines_by_item.setdefault(line.item, line)  # the first line listed for an item takes PURL orders
        self.us_stock = USStock(env, scenario, streams, rec)
        self.us_initial = dict(self.us_stock.on_hand)
        self.stockpiles = Stockpiles(env, scenario, streams, rec)
        self.transport = Transport(env, scenario, streams, rec, switch)
        self.backfill = Backfill(env, scenario, streams, rec, lines_by_item, self.stockpiles)
        self.sourcing = Sourcing(
            env, scenario, rec, self.us_stock, self.stockpiles, lines_by_item, self.backfill, self.transport
        )
        self.approval = Approval(env, scenario, streams, switch)
        self.funding = Funding(env, scenario, rec)
        self.flow = Flow(env, rec, self.approval, self.funding, self.sourcing, self.transport, switch)
        self.disruptions = Disruptions(env, scenario, switch, self.lines, self.transport.legs, streams, rec)
        self.requests = Requests(env, scenario, streams, rec, self.flow.submit)

    def run(self) -> dict:
        """Run to the horizon, check invariants, return the recorder's tables."""
        with gc_paused():
            self.env.run(until=self.scenario.horizon_days)
            for req in self.flow.waiting.values():
                for item, qty in req.lines:
                    self.recorder.pending_lines.append((req, item, qty))
            tables = self.recorder.tables()
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
    return tables
