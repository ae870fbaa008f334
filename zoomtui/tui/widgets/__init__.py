"""Widgets of the TUI, grouped by area (each with its Messages nested inside)."""
