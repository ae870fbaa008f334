"""A subscription's lease in the hub's key-value bucket: who may hold its Zoom connection.

Zoom allows one connection per subscription: two collectors connected at once would knock
each other off for ever.  So a collector connects only while it holds the subscription's
lease, an entry of the lease bucket whose time to live is the bucket's (`lease_ttl`):

- `try_acquire()` creates the entry only if there is none (JetStream's "expected last
  subject sequence" makes it atomic: of two collectors, exactly one wins);
- `renew()` rewrites it only at the revision it holds (`kv.update(..., last=revision)`), so
  a collector whose lease lapsed and was taken cannot renew it back;
- a holder that stops renewing (crashed, cut off from the hub) loses it after the time to
  live: the server drops the entry and a standby's `try_acquire()` succeeds;
- `release()` deletes it at once (a polite stop: the standby need not wait).

The entry's value says who holds it and when it was last renewed (JSON), so a standby can
say whom it waits for and, on taking over, from when nothing was received.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson


def new_holder_id() -> str:
    """Who this collector is, for people: host, process, and a random part."""
    host = socket.gethostname().split(".")[0][:40] or "host"
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True, slots=True)
class LeaseView:
    """The lease as last seen: who held it and when they renewed it (their clock)."""

    holder: str
    renewed_at: float


def _view(value: bytes | None) -> LeaseView | None:
    try:
        body = orjson.loads(value or b"")
        holder, at = body["holder"], body["at"]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        return None
    if not isinstance(holder, str) or not isinstance(at, int | float):
        return None
    return LeaseView(holder[:200], float(at))


class Lease:
    """One subscription's lease, seen from one collector."""

    def __init__(
        self, kv: Any, key: str, holder: str, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.kv = kv
        self.key = key
        self.holder = holder
        self.clock = clock
        #: the revision this collector holds (None: it does not hold the lease)
        self.revision: int | None = None
        #: the other holder last seen, while standing by
        self.other: LeaseView | None = None

    @property
    def held(self) -> bool:
        return self.revision is not None

    def _value(self) -> bytes:
        return orjson.dumps({"holder": self.holder, "at": self.clock()})

    async def try_acquire(self) -> bool:
        """Take the lease if nobody holds it; False (and `other` updated) if somebody does."""
        from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

        try:
            self.revision = await self.kv.create(self.key, self._value())
            return True
        except KeyWrongLastSequenceError:
            pass
        try:
            entry = await self.kv.get(self.key)
        except KeyNotFoundError:  # dropped between the two calls: next time
            return False
        seen = _view(entry.value)
        if seen is not None:
            self.other = seen
        return False

    async def renew(self) -> bool:
        """Renew the lease at the revision held; False: it was lost (taken, or deleted)."""
        from nats.js.errors import KeyWrongLastSequenceError

        if self.revision is None:
            return False
        try:
            self.revision = await self.kv.update(self.key, self._value(), last=self.revision)
            return True
        except KeyWrongLastSequenceError:
            self.revision = None
            return False

    async def release(self) -> None:
        """Give the lease up now (only the revision held: never another holder's)."""
        revision, self.revision = self.revision, None
        if revision is None:
            return
        from nats.js.errors import KeyWrongLastSequenceError

        with contextlib.suppress(KeyWrongLastSequenceError):
            await self.kv.delete(self.key, last=revision)
