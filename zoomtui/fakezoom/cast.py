"""The demo world's cast: people, hosts, topics, the reasons people leave (names are data:
brackets and non-ASCII on purpose), and the crowd a flood's world adds to them."""

from __future__ import annotations

import unicodedata

PEOPLE: tuple[tuple[str, str], ...] = (
    ("Ana Souza", "ana.souza@example.com"),
    ("Bo Lindqvist", "bo.lindqvist@example.com"),
    ("[Ops] Priya Nair", "priya.nair@example.com"),
    ("Björn Ødegård", "bjorn.odegard@example.no"),
    ("Zoë O'Brien", "zoe.obrien@example.ie"),
    ("José Álvarez", "jose.alvarez@example.es"),
    ("李雷", "li.lei@example.cn"),
    ("Мария Иванова", "maria.ivanova@example.com"),
    ("Fatima Al-Sayed", "fatima.alsayed@example.com"),
    ("Chidi Okonkwo", "chidi.okonkwo@example.com"),
    ("Marie-Claire Dubois [external]", "mc.dubois@partner.example.fr"),
    ("[bold]not markup[/bold]", "markup.trap@example.com"),
    ("Kenji Watanabe", "kenji.watanabe@example.jp"),
    ("Sam Taylor", "sam.taylor@example.com"),
    ("Dev Patel (he/him)", "dev.patel@example.com"),
    ("Ngozi Adeyemi", "ngozi.adeyemi@example.com"),
    ("Łukasz Wróbel", "lukasz.wrobel@example.pl"),
    ("Aroha Ngata", "aroha.ngata@example.nz"),
)
#: guests: no Zoom account (empty id and email); the phone one dials in
GUESTS: tuple[str, ...] = ("iPhone", "Guest 4821", "+1 555 0100")
PHONE_GUEST = "+1 555 0100"

HOSTS: tuple[tuple[str, str, str], ...] = (
    ("Ana", "Souza", "ana.souza@example.com"),
    ("Kenji", "Watanabe", "kenji.watanabe@example.jp"),
    ("Fatima", "Al-Sayed", "fatima.alsayed@example.com"),
)

TOPICS: tuple[str, ...] = (
    "Weekly sync",
    "Design review [Q3]",
    "Incident review: login latency",
    "Café & roadmap — Équipe Paris",
    "東京チーム 定例",
    "1:1 Ana / Bo",
    "Sprint planning",
    "Customer call – ACME GmbH",
    "Office hours",
    "All hands",
)
WEBINAR_TOPICS: tuple[str, ...] = ("Product launch webinar", "Zoom APIs in practice (live Q&A)")
TIMEZONES: tuple[str, ...] = ("Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "UTC")
NEW_USERS: tuple[tuple[str, str], ...] = (
    ("Olivia", "Martin"),
    ("Tomás", "Ferreira"),
    ("Hannah", "Schmidt"),
    ("Yuki", "Sato"),
    ("Amara", "Diallo"),
    ("Noah", "Williams"),
    ("Ingrid", "Halvorsen"),
    ("Ravi", "Shankar"),
)
REASON_LEFT = "left the meeting."
REASON_ENDED = "Host ended the meeting."
REASON_NETWORK = "lost connection, network issue."

#: A flood (rate "max", stamped by the clock) puts twenty or more events in one millisecond.
#: The cast above is too small for that: the same person would join, leave and join again
#: within one millisecond, which Zoom never sends and a monitor takes for a resend.  So a
#: flood's world adds this crowd (every first name with every last name).
CROWD_FIRST_NAMES: tuple[str, ...] = (
    "Lena", "Omar", "Sofia", "Mateo", "Aiko", "Emeka", "Ines", "Pavel", "Greta", "Tariq",
    "Nadia", "Hugo",
)  # fmt: skip
CROWD_LAST_NAMES: tuple[str, ...] = (
    "Novak", "Haddad", "Rossi", "García", "Tanaka", "Eze", "Moreau", "Kowalski", "Berg",
    "Rahman", "Costa", "Fischer",
)  # fmt: skip


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


CROWD: tuple[tuple[str, str], ...] = tuple(
    (f"{first} {last}", f"{_ascii(first)}.{_ascii(last)}@crowd.example.com")
    for first in CROWD_FIRST_NAMES
    for last in CROWD_LAST_NAMES
)
