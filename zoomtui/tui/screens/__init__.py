"""Screens and modal screens of the TUI."""
