"""The generic HTTP SMS shape: what is refused when the provider is made, and how
requests are filled (httpx.MockTransport, no socket)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from tidings.domain.outcomes import Sent
from tidings.providers import errors
from tidings.providers.base import Envelope
from tidings.providers.http_sms import HttpSmsProvider, RequestShape


@pytest.mark.parametrize(("settings", "message"), [
    ({"url": "ftp://x"}, "http"),
    ({"url": "https://x", "method": "DELETE"}, "method"),
    ({"url": "https://x", "encoding": "xml"}, "encoding"),
    ({"url": "https://x", "method": "GET", "body": {"a": "$to"}}, "GET"),
    ({"url": "https://x", "body": {"a": "$recipient"}}, "recipient"),
    ({"url": "https://x", "body": {"a": "${to"}}, "template"),
    ({"url": "https://x", "id_pointer": "id"}, "JSON pointer"),
    ({"url": "https://x", "status_pointer": "/s"}, "accepted_values"),
    ({"url": "https://x", "colour": "red"}, "unknown settings"),
])
def test_shape_refusals(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.ProviderConfigError, match=message):
        RequestShape.from_settings(settings)


def test_get_with_query_and_url_placeholders_quoted() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": [{"ref": 77}]})

    shape = RequestShape.from_settings({
        "url": "https://sms.example/$secret/send", "method": "GET",
        "query": {"to": "$to", "msg": "$body", "n": "$segments", "enc": "$encoding"},
        "id_pointer": "/data/0/ref"})
    provider = HttpSmsProvider("g", shape, secret=SecretStr("k/y?"),
                               transport=httpx.MockTransport(answer))
    [outcome] = provider.send_batch([Envelope("<m@x>", "Shop", ["+4915112345678"],
                                              "Grüße & 5€".encode(), 1)])
    assert isinstance(outcome, Sent) and outcome.provider_id == "77"
    [request] = seen
    assert request.url.raw_path.startswith(b"/k%2Fy%3F/send?")
    assert dict(request.url.params) == {"to": "+4915112345678", "msg": "Grüße & 5€",
                                        "n": "1", "enc": "GSM-7"}


def test_secret_required_when_the_shape_uses_it() -> None:
    shape = RequestShape(url="https://x", headers={"Authorization": "Bearer ${secret}"})
    with pytest.raises(errors.ProviderConfigError):
        HttpSmsProvider("g", shape)
