"""Alerts for on-call (no Textual): rules in the profile, checked at start."""
