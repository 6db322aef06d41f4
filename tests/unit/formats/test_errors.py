"""The reason codes are a closed, documented list, and errors carry what a dead letter needs."""

from __future__ import annotations

import pickle
import re

from tidings.formats import errors, records

R = errors.ReasonCode


def test_every_reason_is_documented_in_the_table_and_nothing_else() -> None:
    documented = set(re.findall(r"^\| `(\w+)`", errors.__doc__ or "", flags=re.MULTILINE))
    assert documented == {reason.value for reason in R}


def test_reasons_are_plain_strings() -> None:
    assert R("unsafe_xml") is R.UNSAFE_XML
    assert f"{R.ENVELOPE}" == "envelope"


def test_a_decode_error_survives_pickling_with_its_issues() -> None:
    error = errors.DecodeError(R.BAD_VALUE, "line 3", "bad qty",
                               (errors.Issue("line 3 field qty", "bad qty"),))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.location, copy.detail, copy.issues) == (
        error.reason, error.location, error.detail, error.issues)
    assert str(copy) == "bad_value at line 3: bad qty"


def test_a_record_error_exposes_reason_and_location() -> None:
    item = records.RecordError(errors.DecodeError(R.MALFORMED, "line 9", "stray quote"), "a,\"b")
    assert item.reason is R.MALFORMED
    assert item.location == "line 9"


def test_layout_errors_list_their_lines() -> None:
    error = errors.LayoutError("orders.yaml", [(4, "fields.0: bad"), (None, "empty")])
    assert str(error).splitlines() == ["invalid layout dictionary", "orders.yaml:4: fields.0: bad",
                                       "orders.yaml: empty"]
    assert isinstance(error, errors.DefinitionError)
