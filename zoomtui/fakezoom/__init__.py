"""A faithful fake Zoom for tests, benchmarks and `zoomtui demo` (no Textual here).

See docs/FAKEZOOM_API.md for the contract.

Its parts load when first asked for (`from zoomtui.fakezoom import FakeZoom` works as ever):
`zoomtui trigger` and `zoomtui --help` need only `zoomtui.fakezoom.names`, not the fake.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from zoomtui.fakezoom.connection import FakeConnection
    from zoomtui.fakezoom.consumer import ConsumerError, ProductionConsumer
    from zoomtui.fakezoom.credentials import DEMO_CREDENTIALS, DemoCredentials
    from zoomtui.fakezoom.malformed import MALFORMED_KINDS, malformed_frame
    from zoomtui.fakezoom.names import TRIGGER_EVENTS
    from zoomtui.fakezoom.oauth import TokenRequest
    from zoomtui.fakezoom.scenario import scenario_events
    from zoomtui.fakezoom.server import SCENARIOS, FakeZoom
    from zoomtui.fakezoom.shapes import shapes_events
    from zoomtui.fakezoom.triggers import TriggerRequest

#: each public name -> the module (of this package) that defines it
_HOMES = {
    "DEMO_CREDENTIALS": "credentials",
    "MALFORMED_KINDS": "malformed",
    "SCENARIOS": "server",
    "TRIGGER_EVENTS": "names",
    "ConsumerError": "consumer",
    "DemoCredentials": "credentials",
    "FakeConnection": "connection",
    "FakeZoom": "server",
    "ProductionConsumer": "consumer",
    "TokenRequest": "oauth",
    "TriggerRequest": "triggers",
    "malformed_frame": "malformed",
    "scenario_events": "scenario",
    "shapes_events": "shapes",
}

__all__ = [  # (the keys of _HOMES, spelled out for the linters)
    "DEMO_CREDENTIALS",
    "MALFORMED_KINDS",
    "SCENARIOS",
    "TRIGGER_EVENTS",
    "ConsumerError",
    "DemoCredentials",
    "FakeConnection",
    "FakeZoom",
    "ProductionConsumer",
    "TokenRequest",
    "TriggerRequest",
    "malformed_frame",
    "scenario_events",
    "shapes_events",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # asked once
    return value
