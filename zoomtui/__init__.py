"""zoomtui: a terminal monitor for Zoom WebSocket event subscriptions."""

__version__ = "0.1.0"
