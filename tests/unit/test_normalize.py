import pytest

from musicboxd.normalize import normalize_query, strip_accents


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Björk\tHOMOGENIC  ", "björk homogenic"),
        ("坂本  龍一", "坂本 龍一"),
        ("Кино Группа крови", "кино группа крови"),
        ("عمرو دياب", "عمرو دياب"),
        ("ＡＢＣ", "abc"),
        ("Straße", "strasse"),
        ("zero\u200bwidth", "zerowidth"),
    ],
)
def test_normalize_keeps_every_script(raw, expected):
    assert normalize_query(raw) == expected


def test_equal_meaning_same_key():
    assert normalize_query("BEYONCÉ  Lemonade") == normalize_query("beyoncé lemonade")
    # composed vs decomposed é
    assert normalize_query("Beyonce\u0301") == normalize_query("Beyonc\u00e9")


def test_strip_accents():
    assert strip_accents("björk sigur rós") == "bjork sigur ros"
