"""The demo world's cast: people, hosts, topics, the reasons people leave (names are data:
brackets and non-ASCII on purpose), the crowd a flood's world adds to them, and ids and
times written as Zoom writes them (drawn from the caller's seeded random source)."""

from __future__ import annotations

import base64
import datetime as dt
import random
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


# ---------------------------------------------------------------------------------
# ids and times


def random_b64(rng: random.Random, nbytes: int) -> str:
    """`nbytes` random bytes from `rng`, in base64."""
    return base64.b64encode(rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big")).decode()


def meeting_uuid(rng: random.Random, want: str = "") -> str:
    """A meeting-occurrence uuid like Zoom's (base64 of 16 bytes: always ends with '==').

    want: "+/" = holds both '+' and '/'; "lead/" = starts with '/'; "//" = holds '//'.
    Drawing until the wish is met keeps it seeded and deterministic."""
    while True:
        u = random_b64(rng, 16)
        if (
            not want
            or (want == "+/" and "+" in u and "/" in u)
            or (want == "lead/" and u.startswith("/"))
            or (want == "//" and "//" in u)
        ):
            return u


def user_id(rng: random.Random) -> str:
    """A Zoom user id: 22 characters of base64url."""
    return random_b64(rng, 16)[:22].replace("+", "-").replace("/", "_")


def iso_seconds(t: float) -> str:
    """`t` (epoch seconds) as Zoom writes times: UTC, whole seconds."""
    return dt.datetime.fromtimestamp(int(t), tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
