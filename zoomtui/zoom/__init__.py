"""Talking to Zoom: the protocol, the token provider and the connection. No Textual here."""
