"""The "samples" scenario: Zoom's documented example payloads, replayed verbatim.

Each file in ../shared/zoom-samples/webhooks becomes the content of one
`message` frame, as raw file text, including the files that are not valid JSON
as published: that is what they are, and the client must show them as such.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def sample_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if p.is_file())


def sample_contents(folder: Path) -> Iterator[str]:
    """The raw text of every sample, in file-name order (deterministic)."""
    for path in sample_files(folder):
        yield path.read_text(encoding="utf-8", errors="surrogateescape")
