"""`--check`: validate a handler as Zoom does before it registers an endpoint.

Zoom POSTs ``endpoint.url_validation`` with a random ``plainToken`` (signed like any
webhook) and expects, within 3 s, a 200 or 204 whose JSON is ``{"plainToken": the same,
"encryptedToken": hex HMAC-SHA256(secret token, plainToken)}`` (PROTOCOL.md section 5).
`check_handler` does the same and says what was wrong, if anything.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
import orjson

from zoomtui.forward.forwarder import post_signed
from zoomtui.forward.results import HandlerResponse
from zoomtui.forward.signing import encrypted_token, url_validation_body
from zoomtui.redaction import Secret

#: Zoom's deadline for the answer
CHECK_DEADLINE = 3.0
#: the statuses Zoom takes as an answer to the challenge
ACCEPTED_STATUSES = (200, 204)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Whether the handler answered the challenge as Zoom requires."""

    url: str
    ok: bool
    #: what was wrong, in a sentence ("" when ok)
    problem: str
    status: int | None
    latency: float
    deadline: float
    response: HandlerResponse | None


def _problem(answer: HandlerResponse, plain: str, expected: str) -> str:
    """What is wrong with an answer that came in time ("" when nothing)."""
    if answer.status not in ACCEPTED_STATUSES:
        return f"the handler answered {answer.status}; Zoom wants 200 (or 204)"
    if answer.truncated:
        return "the answer is longer than 1 KB; Zoom wants a small JSON object"
    try:
        got = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return 'the answer is not JSON; Zoom wants {"plainToken", "encryptedToken"}'
    if not isinstance(got, dict):
        return "the answer is not a JSON object with plainToken and encryptedToken"
    if got.get("plainToken") != plain:
        return "plainToken in the answer is not the one sent"
    if got.get("encryptedToken") != expected:
        return (
            "encryptedToken is not hex HMAC-SHA256 of plainToken with the webhook secret "
            "token (a different secret token, or a different hash)"
        )
    return ""


async def check_handler(
    url: str,
    secret: Secret,
    *,
    deadline: float = CHECK_DEADLINE,
    client: httpx.AsyncClient | None = None,
    plain_token: str | None = None,
) -> CheckResult:
    """Send Zoom's URL-validation challenge to `url` and judge the answer (`deadline`:
    Zoom's 3 s; a test may shrink it)."""
    plain = plain_token or secrets.token_urlsafe(16)
    body = url_validation_body(plain)
    own = client is None
    http = client or httpx.AsyncClient(trust_env=False, follow_redirects=False)
    try:
        _request, answer, error, latency = await post_signed(http, url, body, secret, deadline)
    finally:
        if own:
            await http.aclose()
    if answer is None:
        problem = error
    elif latency > deadline:
        problem = f"the answer took {latency:.1f} s; Zoom waits {deadline:g} s"
    else:
        problem = _problem(answer, plain, encrypted_token(secret.reveal(), plain))
    return CheckResult(
        url=url,
        ok=not problem,
        problem=problem,
        status=answer.status if answer is not None else None,
        latency=latency,
        deadline=deadline,
        response=answer,
    )
