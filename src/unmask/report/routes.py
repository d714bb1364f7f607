"""Where to send a takedown request: routes that reach platforms (their own report forms,
hash-sharing services such as StopNCII.org and Take It Down, helplines, regulators, the police),
chosen from her answers: country, platform and whether the person shown is under 18.

    routes = choose_routes(answers)      # list[Route], most direct first
    directory_info()                     # when the directory was compiled, and how

The directory is a small data file shipped with unmask (`report/data/routes.toml`), with the
source of each route and the date it was compiled. Unmask never contacts any of these services:
it only shows them, so that she can choose. A route that is not listed for her country is not
a route that does not exist: the directory is deliberately short and lists only what its
maintainers could state with confidence.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

from unmask.report.answers import Answers

Age = Literal["adult", "minor", "any"]

KIND_ORDER = {"platform": 0, "search": 1, "hash_sharing": 2, "helpline": 3, "regulator": 4}
"""Most direct first: the platform that shows it, then search engines, hash sharing that blocks
copies everywhere, people who help, regulators; the police last (`kind` "police")."""


@dataclass(frozen=True)
class Route:
    id: str
    name: str
    kind: str
    url: str
    what: str
    how: str
    source: str
    ages: Age
    countries: tuple[str, ...]
    platforms: tuple[str, ...]
    replaces: tuple[str, ...] = ()


@dataclass(frozen=True)
class Directory:
    compiled: str
    checked_online: bool
    how: str
    countries: dict[str, tuple[str, ...]]
    groups: dict[str, tuple[str, ...]]
    platforms: dict[str, tuple[str, ...]]
    routes: tuple[Route, ...]


@cache
def load_directory() -> Directory:
    """The shipped directory (read once)."""
    text = files("unmask.report").joinpath("data/routes.toml").read_text("utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    head = data["directory"]
    return Directory(
        compiled=str(head["compiled"]),
        checked_online=bool(head["checked_online"]),
        how=" ".join(str(head["how"]).split()),
        countries={code: tuple(names) for code, names in data["countries"].items()},
        groups={name: tuple(codes) for name, codes in data["groups"].items()},
        platforms={key: tuple(names) for key, names in data["platforms"].items()},
        routes=tuple(
            Route(
                id=r["id"],
                name=r["name"],
                kind=r["kind"],
                url=r["url"],
                what=" ".join(r["what"].split()),
                how=" ".join(r["how"].split()),
                source=r["source"],
                ages=r["ages"],
                countries=tuple(r["countries"]),
                platforms=tuple(r["platforms"]),
                replaces=tuple(r.get("replaces", ())),
            )
            for r in data["route"]
        ),
    )


def country_code(text: str) -> str | None:
    """The ISO 3166-1 code of a country as she typed it ("UK", "Deutschland", "us"), or None."""
    wanted = _plain(text)
    if not wanted:
        return None
    for code, names in load_directory().countries.items():
        if wanted == code.lower() or wanted in {_plain(n) for n in names}:
            return code
    return None


def platform_key(text: str) -> str | None:
    """The directory's key for a platform as she typed it ("Instagram" -> "meta"), or None."""
    wanted = _plain(text)
    for key, names in load_directory().platforms.items():
        if wanted in {_plain(n) for n in names}:
            return key
    return None


def choose_routes(answers: Answers) -> list[Route]:
    """The routes that apply to her answers, most direct first. The platform's own form is
    listed once: by name when the directory knows her platform, else in general words."""
    directory = load_directory()
    code = country_code(answers.country)
    places = {"*"} | ({code} if code else set())
    places |= {group for group, codes in directory.groups.items() if code in codes}
    platform = platform_key(answers.platform)
    age = "minor" if answers.minor else "adult"
    chosen = []
    for route in directory.routes:
        if route.ages not in ("any", age) or not places & set(route.countries):
            continue
        if route.platforms and platform not in route.platforms:
            continue
        if route.id == "platform_own" and platform is not None:
            continue  # her platform's own entry says it by name
        chosen.append(route)
    replaced = {name for route in chosen for name in route.replaces}
    chosen = [route for route in chosen if route.id not in replaced]
    return sorted(chosen, key=lambda r: KIND_ORDER.get(r.kind, len(KIND_ORDER)))


def where_to_send(kind: str, answers: Answers) -> str:
    """One sentence: where a notice of this kind goes, for the page that shows it."""
    platform = answers.platform.strip() or "the platform"
    return {
        "take_it_down": f"To {platform}, through its removal process for intimate images "
        "published without consent (platforms covered by the TAKE IT DOWN Act must offer one: "
        "look in its help centre or its Report option), or by email to its abuse address.",
        "dsa": f"To {platform}, through its form for reporting illegal content (every hosting "
        "service in the EU must offer one under Article 16 of the Digital Services Act).",
        "dmca": f"To {platform}'s designated copyright agent: its copyright (DMCA) form or "
        "address, in its help centre or terms; the US Copyright Office lists designated agents "
        "at dmca.copyright.gov.",
        "platform": f"To {platform}, through the Report option on the post or its help "
        "centre's form for intimate images shared without consent.",
    }.get(kind, f"To {platform}.")


def routes_text(answers: Answers) -> str:
    """The chosen routes as plain text for the package (takedown/where-to-send.txt)."""
    from unmask.report.plaintext import items, section, wrap

    directory = load_directory()
    blocks = [
        "WHERE TO SEND THESE REQUESTS",
        wrap(
            "Chosen from your answers: "
            + ", ".join(
                [
                    f"country: {answers.country.strip() or 'not given'}",
                    f"platform: {answers.platform.strip() or 'not given'}",
                    "under 18 in it" if answers.minor else "18 or over in it (or not said)",
                ]
            )
            + ". Unmask does not contact any of these services; you choose."
        ),
    ]
    for route in choose_routes(answers):
        lines = [wrap(route.what), wrap(f"How: {route.how}")]
        if route.url:
            lines.insert(0, f"Web: {route.url}")
        lines.append(wrap(f"Source: {route.source}"))
        blocks.append(section(route.name.upper(), *lines))
    blocks.append(
        wrap(
            f"This list was compiled on {directory.compiled}. {directory.how} It is short on "
            "purpose: a service missing here may still exist for your country or platform."
        )
    )
    if not country_code(answers.country):
        blocks.append(
            items(
                [
                    "Give your country to see national helplines and regulators (listed for: "
                    + ", ".join(sorted({c for r in directory.routes for c in r.countries} - {"*"}))
                    + ")."
                ]
            )
        )
    return "\n\n".join(blocks) + "\n"


def _plain(text: str) -> str:
    """Lower case, single spaces, no dots ("U.S.A." and "usa" are one name)."""
    return " ".join(text.lower().replace(".", "").split())
