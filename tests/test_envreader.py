"""The environment reader: defaults for blank variables, and errors with a code and data."""

from __future__ import annotations

import pytest

import envreader as read


def test_blank_or_missing_variables_take_the_default() -> None:
    env = {"BLANK": "   "}
    for name in ("BLANK", "MISSING"):
        assert read.text(env, name, "d") == "d"
        assert read.optional(env, name) is None
        assert read.url(env, name, "http://h/") == "http://h"
        assert read.port(env, name, 8000) == 8000
        assert read.whole_number(env, name, 5) == 5
        assert read.byte_count(env, name, 2**31) == 2**31
        assert read.days(env, name, None, maximum=10) is None
        assert read.number(env, name, 7.0) == 7.0
        assert read.seconds(env, name, 0.5) == 0.5
        assert read.flag(env, name, True) is True


def test_values_are_read_without_surrounding_blanks() -> None:
    env = {
        "T": " x ",
        "U": " https://a.example/ ",
        "P": " 8080 ",
        "N": "3",
        "D": "30",
        "F": "1.5",
        "Y": " Yes ",
        "S": " s3cret ",
    }
    assert (read.text(env, "T", ""), read.optional(env, "T")) == ("x", "x")
    assert read.url(env, "U", "") == "https://a.example"
    assert read.port(env, "P", 1) == 8080
    assert read.whole_number(env, "N", 1) == 3
    assert read.byte_count({"B": " 2147483648 "}, "B", 1) == 2_147_483_648
    assert read.days(env, "D", None, maximum=36_500) == 30
    assert (read.number(env, "F", 1.0), read.seconds(env, "F", 1.0)) == (1.5, 1.5)
    assert read.flag(env, "Y", False) is True
    assert read.secret(env, "S", minimum=6) == "s3cret"


def test_an_address_falls_back_to_a_port_on_loopback() -> None:
    assert read.local_url({}, "BOT_URL", "BOT_PORT", 8000) == "http://127.0.0.1:8000"
    assert read.local_url({"BOT_PORT": "8123"}, "BOT_URL", "BOT_PORT", 8000) == (
        "http://127.0.0.1:8123"
    )
    env = {"BOT_URL": "https://bot/", "BOT_PORT": "nonsense"}
    assert read.local_url(env, "BOT_URL", "BOT_PORT", 8000) == "https://bot"


@pytest.mark.parametrize(
    ("reader", "raw", "code"),
    [
        (lambda env: read.url(env, "V", ""), "bot:8000", "not_url"),
        (lambda env: read.port(env, "V", 1), "0", "not_port"),
        (lambda env: read.port(env, "V", 1), "70000", "not_port"),
        (lambda env: read.port(env, "V", 1), "http", "not_port"),
        (lambda env: read.whole_number(env, "V", 1), "1.5", "not_whole_number"),
        (lambda env: read.whole_number(env, "V", 1), "²", "not_whole_number"),
        (lambda env: read.whole_number(env, "V", 1), "1" + "0" * 20, "not_whole_number"),
        (lambda env: read.byte_count(env, "V", 1), "0", "not_byte_count"),
        (lambda env: read.byte_count(env, "V", 1), "500MiB", "not_byte_count"),
        (lambda env: read.days(env, "V", None, maximum=10), "11", "not_days"),
        (lambda env: read.number(env, "V", 1.0), "-5", "not_number"),
        (lambda env: read.number(env, "V", 1.0), "nan", "not_number"),
        (lambda env: read.seconds(env, "V", 1.0), "inf", "not_seconds"),
        (lambda env: read.seconds(env, "V", 1.0), "hourly", "not_seconds"),
        (lambda env: read.flag(env, "V", True), "maybe", "not_flag"),
    ],
)
def test_bad_values_carry_a_code_the_name_and_the_value(
    reader: object, raw: str, code: str
) -> None:
    with pytest.raises(read.EnvError) as caught:
        reader({"V": f" {raw} "})  # type: ignore[operator]
    assert caught.value.code == code
    assert (caught.value.data["name"], caught.value.data["value"]) == ("V", raw)
    assert str(caught.value).startswith("V must ")
    assert repr(raw) in str(caught.value)


def test_a_secret_must_be_set_and_long_enough() -> None:
    with pytest.raises(read.EnvError) as missing:
        read.secret({"S": "  "}, "S")
    assert (missing.value.code, missing.value.data, str(missing.value)) == (
        "missing",
        {"name": "S"},
        "S is not set.",
    )
    with pytest.raises(read.EnvError) as short:
        read.secret({"S": "short"}, "S", minimum=16)
    assert (short.value.code, short.value.data) == ("too_short", {"name": "S", "minimum": 16})
    assert "short" not in str(short.value).removeprefix("S must be at least 16 characters.")


def test_every_code_has_words() -> None:
    codes = {"missing", "too_short", "not_url", "not_port", "not_whole_number", "not_days"}
    codes |= {"not_number", "not_seconds", "not_flag", "not_byte_count"}
    assert set(read.WORDS) == codes
