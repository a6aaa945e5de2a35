"""The switchboard: which scopes the disruptions hold closed, and who waits for them to reopen.

Every part that can be stopped asks the switchboard whether its scopes are open before it
proceeds (the scopes are listed in disruptions.py); work caught by a closed scope waits here
and resumes when the scope reopens, so nothing is lost. Closes are counted, so overlapping
windows nest: a scope reopens when the last window over it ends.
"""

from __future__ import annotations

from collections import defaultdict

from ..errors import InvariantError


class Switchboard:
    """Which scopes are closed, and who waits for them to reopen."""

    def __init__(self, env):
        self.env = env
        self.closed: dict[str, int] = defaultdict(int)
        self.any_closed = 0
        self._waiters: dict[str, list] = defaultdict(list)  # kernel signals
        self._watchers: dict[str, list] = defaultdict(list)

    def is_open(self, scopes) -> bool:
        """True when none of `scopes` is closed."""
        return not self.any_closed or not any(self.closed.get(s) for s in scopes)

    def hold(self, scopes):
        """Process step: wait until every one of `scopes` is open."""
        while self.any_closed:
            shut = next((s for s in scopes if self.closed.get(s)), None)
            if shut is None:
                return
            ev = self.env.signal()
            self._waiters[shut].append(ev)
            yield ev

    def waiting(self) -> dict[str, int]:
        """Work waiting per scope (for checks that nothing is stranded on an open scope)."""
        return {s: len(w) for s, w in self._waiters.items() if w}

    def check(self, finished=None) -> None:
        """End of run: no scope opened more often than closed, no work stranded on an open scope."""
        for scope, n in self.closed.items():
            if n < 0:
                raise InvariantError(f"scope {scope} opened more often than closed")
        for scope, n in self.waiting().items():
            if not self.closed.get(scope):
                raise InvariantError(f"{n} process(es) wait on scope {scope}, which is open")

    def watch(self, scope: str, target) -> None:
        """Tell `target` (with close(scope)/open(scope)) whenever `scope` changes."""
        self._watchers[scope].append(target)
        if self.closed.get(scope):
            target.close(scope)

    def close(self, scope: str) -> None:
        """Close a scope (counted, so overlapping windows nest)."""
        self.closed[scope] += 1
        self.any_closed += 1
        if self.closed[scope] == 1:
            for t in self._watchers.get(scope, ()):
                t.close(scope)

    def open(self, scope: str) -> None:
        """Undo one close of a scope; when it is fully open, wake its waiters."""
        self.closed[scope] -= 1
        self.any_closed -= 1
        if self.closed[scope] == 0:
            for t in self._watchers.get(scope, ()):
                t.open(scope)
            waiters, self._waiters[scope] = self._waiters[scope], []
            for ev in waiters:
                self.env.fire(ev)
