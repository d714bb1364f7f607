"""The verdict's headline as a frightened reader meets it: when this version cannot tell whether
a face was swapped it says so first, names only the checks that ran, and never lets "nothing
found" read as "it looks unaltered"."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from media_factory import EXAMPLE
from test_eval_command import labelled  # noqa: F401  (fixture)
from test_face_swap import card_with, no_shipped_model  # noqa: F401  (fixture)

from unmask.config import ScanConfig
from unmask.eval_command import eval_command
from unmask.result import Finding
from unmask.scan import Scanner
from unmask.verdict import decide

REASSURING = ("found no signs of manipulation", "no signs of manipulation found")


@pytest.mark.usefixtures("no_shipped_model")
def test_without_a_face_model_the_headline_says_what_this_version_cannot_tell():
    verdict = Scanner().scan(EXAMPLE).verdict
    assert verdict is not None and verdict.label == "inconclusive"
    headline = verdict.headline.lower()
    assert headline.startswith("inconclusive: this version cannot tell whether a face was swapped")
    assert "does not show the file is unaltered" in headline
    assert not any(phrase in headline for phrase in REASSURING)


@pytest.mark.usefixtures("no_shipped_model")
def test_the_headline_names_only_the_checks_that_ran():
    only_metadata = Scanner(ScanConfig(detectors=("metadata",))).scan(EXAMPLE).verdict
    assert only_metadata is not None
    assert "The metadata check " in only_metadata.headline
    assert "forensic" not in only_metadata.headline
    both = Scanner(ScanConfig(detectors=("metadata", "forensics"))).scan(EXAMPLE).verdict
    assert both is not None
    assert "The metadata and forensic checks " in both.headline
    nothing = decide([], [], ["faces (MTCNN)"])
    assert "No metadata or forensic check ran" in nothing.headline


def test_weak_hints_are_neither_reassurance_nor_an_accusation():
    hint = Finding(
        detector="forensics",
        code="error_level",
        summary="Parts of the picture were saved at a different quality.",
        indicates="manipulation",
        strength="weak",
    )
    verdict = decide([hint], [], ["forensics: error levels"])
    assert verdict.label == "inconclusive"
    assert "found only weak hints" in verdict.headline
    assert "neither show the file was altered nor that it is unaltered" in verdict.headline
    assert hint.summary in verdict.reasons


@pytest.mark.usefixtures("no_shipped_model")
def test_eval_without_a_model_says_none_ships_instead_of_asking_to_reinstall(
    labelled: Path,  # noqa: F811
    tmp_path: Path,
):
    run = CliRunner().invoke(eval_command, [str(labelled), "-o", str(tmp_path / "out")])
    assert run.exit_code == 2
    assert "no face-manipulation model ships with this version" in run.output
    assert "--model" in run.output and "reinstall" not in run.output
    assert run.exception is None or isinstance(run.exception, SystemExit)


def test_a_face_verdict_says_what_the_check_covers_in_the_cards_words():
    card = card_with(covers="Finds faces pasted into photos; misses live swaps.")
    flagged = decide([], [], [], face_probability=0.93, face_model=card)
    assert "Finds faces pasted into photos; misses live swaps." in flagged.headline
    clear = decide([], [], ["metadata: x"], face_probability=0.1, face_model=card)
    assert clear.label == "no_signs_found"
    assert "covers only what its card says: Finds faces pasted into photos" in clear.headline
    assert "does not show the file is unaltered" in clear.headline
