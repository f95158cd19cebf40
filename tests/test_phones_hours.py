"""Phones (phonenumbers) and opening hours (opening-hours-py)."""
from __future__ import annotations

from datetime import datetime

import pytest

from directory import PhoneError, open_now, parse_phone, validate_hours
from directory.hours import PARIS, HoursError, next_change


@pytest.mark.parametrize("raw,number,display,tel", [
    ("03 23 79 30 14", "0323793014", "03 23 79 30 14", "tel:+33323793014"),
    ("03.23.79.30.14", "0323793014", "03 23 79 30 14", "tel:+33323793014"),
    ("+33 3 23 79 30 14", "0323793014", "03 23 79 30 14", "tel:+33323793014"),
    ("3919", "3919", "3919", "tel:3919"),
    ("17", "17", "17", "tel:17"),
    ("116006", "116006", "116 006", "tel:116006"),
    ("0 800 05 95 95", "0800059595", "08 00 05 95 95", "tel:+33800059595"),
])
def test_valid_phones(raw, number, display, tel):
    p = parse_phone(raw)
    assert (p.number, p.display, p.tel) == (number, display, tel)


def test_sms_link_of_a_short_number():
    assert parse_phone("114", "sms").sms == "sms:114"


@pytest.mark.parametrize("raw", ["0323", "12", "1234", "03 23 79 30 1", "abc", "", "99999999999", None, True])
def test_invalid_phones_are_refused_in_french(raw):
    with pytest.raises(PhoneError) as err:
        parse_phone(raw)
    assert "numéro" in err.value.message


def test_unknown_phone_type():
    with pytest.raises(PhoneError):
        parse_phone("3919", "fax")


def at(y, m, d, h, mi=0):
    return datetime(y, m, d, h, mi, tzinfo=PARIS)


def test_open_now_on_weekdays_and_public_holidays():
    hours = "Mo-Fr 09:00-17:00; PH off"
    assert open_now(hours, at(2026, 11, 27, 10)) is True   # a Friday
    assert open_now(hours, at(2026, 11, 27, 18)) is False
    assert open_now(hours, at(2026, 11, 28, 10)) is False  # Saturday
    assert open_now(hours, at(2026, 12, 25, 10)) is False  # Christmas, a public holiday in France
    assert open_now(hours, at(2026, 7, 14, 10)) is False   # Fête nationale
    assert next_change(hours, at(2026, 11, 27, 10)) == at(2026, 11, 27, 17)


def test_unknown_hours_give_none():
    assert open_now(None) is None


def test_24_7_is_always_open():
    assert open_now("24/7", at(2026, 12, 25, 3)) is True


@pytest.mark.parametrize("bad", ["lundi 9h-17h", "Mo-Fr 25:00-26:00 xx", "", 42])
def test_malformed_hours(bad):
    with pytest.raises(HoursError):
        validate_hours(bad)
