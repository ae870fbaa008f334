"""Implementations of the command-line subcommands (each imported lazily by zoomtui.cli)."""
