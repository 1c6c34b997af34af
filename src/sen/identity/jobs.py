"""Keeping identity up to date inside ``sen serve``.

New events are folded into profiles every few seconds by
:func:`sen.identity.resolver.update`, run on the event writer's thread between
commits (:class:`sen.jobs.WriterJob`): DuckDB has one writer, and identity
must see every committed event exactly once.
"""

from __future__ import annotations

from sen.identity import resolver
from sen.jobs import WriterJob


class IdentityUpdater(WriterJob):
    """Runs an identity update every ``interval_s``."""

    name = "identity"

    def work(self) -> resolver.RunStats:
        return resolver.update(self.engine)
