"""Loaded by every Python a test starts with this folder on PYTHONPATH: the loopback guard
(tests/netguard.py), so a zoomtui process a test runs reaches loopback only too."""

import importlib.util
import os

_GUARD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "netguard.py")
_spec = importlib.util.spec_from_file_location("_zoomtui_test_netguard", _GUARD)
if _spec is not None and _spec.loader is not None:
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    _module.install_in_child()
