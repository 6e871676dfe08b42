from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sinks.tracking import damm_check_digit, is_valid_tracking_no, make_tracking_no

NOV_2026 = datetime(2026, 11, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sequence", "when", "expected"),
    [
        (123, NOV_2026, "ADU-2611-000123-" + str(damm_check_digit("2611000123"))),
        (
            1,
            datetime(2030, 1, 1, tzinfo=UTC),
            "ADU-3001-000001-" + str(damm_check_digit("3001000001")),
        ),
        (1234567, NOV_2026, "ADU-2611-1234567-" + str(damm_check_digit("26111234567"))),
    ],
)
def test_make_tracking_no(sequence: int, when: datetime, expected: str) -> None:
    assert make_tracking_no(sequence, when) == expected
    assert is_valid_tracking_no(expected)


def test_damm_reference_vector() -> None:
    # the published example: 572 -> check digit 4
    assert damm_check_digit("572") == 4


GOOD = make_tracking_no(123, NOV_2026)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (GOOD, True),
        (GOOD.lower(), True),  # people type lower case
        (f"  {GOOD} ", True),
        (GOOD[:-1] + str((int(GOOD[-1]) + 1) % 10), False),  # wrong check digit
        ("ADU-2611-000132-" + GOOD[-1], False),  # adjacent transposition 23 -> 32
        ("ADU-2611-000124-" + GOOD[-1], False),  # single digit error
        ("ADU-2613-000123-" + str(damm_check_digit("2613000123")), False),  # month 13
        ("ADU-2611-000000-" + str(damm_check_digit("2611000000")), False),  # sequence 0
        ("ADU-2611-00123-" + str(damm_check_digit("261100123")), False),  # too few digits
        ("LAP-2611-000123-" + GOOD[-1], False),
        ("ADU2611000123" + GOOD[-1], False),
        ("", False),
    ],
)
def test_is_valid_tracking_no(value: str, valid: bool) -> None:
    assert is_valid_tracking_no(value) is valid


def test_every_single_digit_error_and_adjacent_swap_is_caught() -> None:
    digits = "2611000123"
    check = damm_check_digit(digits)
    for i in range(len(digits)):
        for d in "0123456789":
            if d != digits[i]:
                assert damm_check_digit(digits[:i] + d + digits[i + 1 :]) != check
        if i + 1 < len(digits) and digits[i] != digits[i + 1]:
            swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
            assert damm_check_digit(swapped) != check


def test_sequence_must_be_positive() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        make_tracking_no(0, NOV_2026)
