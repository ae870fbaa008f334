"""A faithful fake Zoom for tests, benchmarks and `zoomtui demo` (no Textual here).

See docs/FAKEZOOM_API.md for the contract.
"""

from zoomtui.fakezoom.connection import FakeConnection
from zoomtui.fakezoom.consumer import ConsumerError, ProductionConsumer
from zoomtui.fakezoom.credentials import DEMO_CREDENTIALS, DemoCredentials
from zoomtui.fakezoom.malformed import MALFORMED_KINDS, malformed_frame
from zoomtui.fakezoom.oauth import TokenRequest
from zoomtui.fakezoom.scenario import scenario_events
from zoomtui.fakezoom.server import SCENARIOS, FakeZoom
from zoomtui.fakezoom.shapes import shapes_events
from zoomtui.fakezoom.triggers import TRIGGER_EVENTS, TriggerRequest

__all__ = [
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
