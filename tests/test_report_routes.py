"""Where to send the requests: routes chosen from her answers (country, platform, age) out of
the shipped offline directory, written into the package and never contacted."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from unmask.cli import app
from unmask.report.answers import Answers
from unmask.report.routes import (
    choose_routes,
    country_code,
    load_directory,
    platform_key,
    routes_text,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"


def ids(answers: Answers) -> list[str]:
    return [route.id for route in choose_routes(answers)]


def test_an_adult_in_the_uk_on_instagram_gets_meta_stopncii_and_the_uk_helpline() -> None:
    chosen = ids(Answers(country="United Kingdom", platform="Instagram"))
    assert chosen[0] == "meta", "her platform's own form comes first"
    assert {"stopncii", "revenge_porn_helpline", "uk_police", "google_search"} <= set(chosen)
    assert "take_it_down" not in chosen and "report_remove" not in chosen
    assert "police" not in chosen, "the UK police entry stands in for the general one"
    assert "platform_own" not in chosen, "her platform is named, not described in general"
    assert chosen[-1] == "uk_police"


def test_a_minor_in_the_us_gets_take_it_down_and_the_cybertipline_not_stopncii() -> None:
    chosen = ids(Answers(country="USA", platform="TikTok", minor=True))
    assert {"tiktok", "take_it_down", "cybertipline", "police"} <= set(chosen)
    assert "stopncii" not in chosen and "ccri" not in chosen


@pytest.mark.parametrize(
    ("country", "expected", "absent"),
    [
        ("Australia", "esafety", "dsa_notice"),
        ("Deutschland", "dsa_notice", "esafety"),
        ("ireland", "dsa_notice", "revenge_porn_helpline"),
        ("U.S.", "ccri", "dsa_notice"),
    ],
)
def test_national_routes_follow_the_country_as_she_typed_it(
    country: str, expected: str, absent: str
) -> None:
    chosen = ids(Answers(country=country))
    assert expected in chosen and absent not in chosen


def test_without_country_or_known_platform_only_routes_that_work_everywhere_are_listed() -> None:
    answers = Answers(platform="SomeSmallForum")
    chosen = choose_routes(answers)
    assert all("*" in route.countries for route in chosen)
    assert chosen[0].id == "platform_own"
    text = routes_text(answers)
    assert "Give your country to see national helplines" in text and "GB" in text


def test_names_are_matched_as_typed() -> None:
    assert country_code(" uk ") == "GB" and country_code("España") == "ES"
    assert country_code("Atlantis") is None and country_code("") is None
    assert platform_key("Twitter") == "x" and platform_key("facebook") == "meta"
    assert platform_key("example.com") is None


def test_the_directory_is_dated_sourced_and_says_how_it_was_checked() -> None:
    directory = load_directory()
    assert date.fromisoformat(directory.compiled) <= date.today()
    assert directory.how
    known_countries = set(directory.countries) | set(directory.groups) | {"*"}
    for route in directory.routes:
        assert route.source and route.what and route.how, route.id
        assert route.url == "" or re.fullmatch(r"https://[a-z0-9.-]+(/[\w/.-]*)?", route.url)
        assert set(route.countries) <= known_countries, route.id
        assert set(route.platforms) <= set(directory.platforms), route.id
        assert not re.search(r"\b(real|authentic|genuine)\b", route.what + route.how, re.I)
    text = routes_text(Answers(country="UK"))
    assert f"compiled on {directory.compiled}" in text
    assert "does not contact any of these services" in text
    if not directory.checked_online:
        assert "Not yet re-checked against the live sites" in " ".join(text.split())


def test_the_package_says_where_to_send_the_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({"country": "Australia", "platform": "Reddit", "minor": True}))
    out = tmp_path / "evidence"
    args = ["report", str(EXAMPLE), "-o", str(out), "--no-ask", "--no-pdf"]
    result = CliRunner().invoke(app, [*args, "--answers", str(answers)])
    assert result.exit_code == 0, result.output
    text = (out / "takedown/where-to-send.txt").read_text()
    assert "REDDIT" in text and "ESAFETY" in text and "TAKE IT DOWN" in text
    assert "STOPNCII" not in text
    html = " ".join((out / "report.html").read_text().split())
    assert "Where to send the requests" in html and "https://www.esafety.gov.au" in html
    assert "takedown/where-to-send.txt" in (out / "README.txt").read_text()
