"""SES v2 error answers -> outcomes (pure; the wire is tested in tests/integration)."""

from __future__ import annotations

import pytest

from tidings.domain.outcomes import Deferred, Failed
from tidings.providers import errors, ses


@pytest.mark.parametrize(("error", "status", "kind", "code", "failover"), [
    ("MessageRejected", 400, Failed, "400", False),
    ("BadRequestException", 400, Failed, "400", False),
    ("TooManyRequestsException", 429, Deferred, "429", False),
    ("Throttling", 400, Deferred, "Throttling", False),
    ("LimitExceededException", 400, Deferred, "LimitExceededException", True),
    ("AccountSuspendedException", 400, Deferred, "AccountSuspendedException", True),
    ("SendingPausedException", 400, Deferred, "SendingPausedException", True),
    ("MailFromDomainNotVerifiedException", 400, Deferred,
     "MailFromDomainNotVerifiedException", True),
    ("NotFoundException", 404, Deferred, "NotFoundException", True),
    ("AccessDeniedException", 403, Deferred, "403", True),
    ("InternalFailure", 500, Deferred, "500", True),
    ("SomethingNew", 400, Failed, "400", False),
])
def test_error_table(error: str, status: int, kind: type, code: str, failover: bool) -> None:
    outcome = ses.classify_error(error, status, "why")
    assert type(outcome) is kind and outcome.code == code
    assert error in outcome.reason
    if isinstance(outcome, Deferred):
        assert outcome.failover is failover


@pytest.mark.parametrize("tags", [{"a b": "x"}, {"a": "é"}, {"a": ""},
                                  {ses.OUTBOX_ID_TAG: "1"}, {"a": "x" * 257}])
def test_bad_tags_are_refused(tags: dict[str, str]) -> None:
    with pytest.raises(errors.ProviderConfigError):
        ses.SesProvider("s", region="eu-west-1", tags=tags)
