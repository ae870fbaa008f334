"""The team hub: one collector holds each Zoom subscription and publishes what it receives
to NATS JetStream; any number of monitors read it there (no Textual).

- `settings.py`: `HubSettings` (URL, credentials, the stream's limits, the lease's time to
  live) and the cleartext rule;
- `subjects.py`: subjects, lease keys and message ids (hostile names made safe);
- `wire.py`: an `Update` as a hub message and back;
- `client.py`: connecting (`connect_hub`, `HubError`), the stream, the lease bucket;
- `lease.py`: a subscription's lease (`Lease`);
- `publisher.py`: `HubPublisher`, the collector's `SessionSink`;
- `collector.py`: `SubscriptionCollector` (stand by, hold, publish) and `HubLink`;
- `source.py`: `HubSource`, the `UpdateSource` the viewers read.

Everything here imports `nats` (the `hub` extra) only when it runs.
"""

from zoomtui.hub.client import HubError, LinkChange
from zoomtui.hub.settings import HubSettings

__all__ = ["HubError", "HubSettings", "LinkChange"]
