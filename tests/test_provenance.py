"""Content Credentials: `unmask verify` reports what the C2PA conformance files' sources expect."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import c2pa
import jsonschema
import pytest
from click.testing import CliRunner

from unmask.cli import app
from unmask.detectors.base import ScanContext
from unmask.detectors.provenance import ProvenanceDetector
from unmask.media import open_media
from unmask.provenance.credentials import CredentialsError, offline_context, read_credentials
from unmask.provenance.explain import CONTENT_CHANGED, STRUCTURAL_FAULT, explain_code
from unmask.provenance.trust import (
    C2paTrustList,
    TrustAnchors,
    load_trust,
    shipped_c2pa_trust_list,
)

DATA_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"
EXPECTED = DATA_ROOT / "c2pa" / "expected.csv"

# Where expected.csv and the reference validator disagree, and why we follow the validator.
CORRECTIONS = {
    # c2pa-rs sdk/src/identity/tests/validation_method.rs `extra_fields`: "A validator SHALL NOT
    # consider any extra fields not documented in the identity rule" and the default Reader
    # reports no validation status for this file. expected.csv guessed "invalid" from the name.
    "c2pa-rs__sdk__src__identity__tests__fixtures__validation_method__extra_field.jpg": "valid",
    # expected.csv marks every public test file "valid" unless named as an error; the
    # public-testfiles README lists this one only as an example of capture details, and c2pa-rs
    # 0.91 (c2pa-python 0.38) finds its data hash does not match the bytes.
    "public-testfiles__image__jpeg__truepic-20230212-camera.jpg": "invalid",
}

# The check each tampered file must be reported failing with (from the files' documentation).
EXPECTED_FAILED_CHECK = {
    "c2pa-rs__sdk__tests__fixtures__XCA.jpg": "assertion.dataHash.mismatch",
    "public-testfiles__image__jpeg__adobe-20220124-XCA.jpg": "assertion.dataHash.mismatch",
    "public-testfiles__image__jpeg__adobe-20220124-E-dat-CA.jpg": "assertion.dataHash.mismatch",
    "c2pa-rs__sdk__tests__fixtures__E-sig-CA.jpg": "claimSignature.mismatch",
    "public-testfiles__image__jpeg__adobe-20220124-E-sig-CA.jpg": "claimSignature.mismatch",
    "public-testfiles__image__jpeg__adobe-20220124-CIE-sig-CA.jpg": "claimSignature.mismatch",
    "public-testfiles__image__jpeg__adobe-20220124-E-uri-CA.jpg": "assertion.hashedURI.mismatch",
    "c2pa-rs__sdk__tests__fixtures__no_alg.jpg": "algorithm.unsupported",
    "public-testfiles__image__jpeg__nikon-20221019-building.jpeg": "signingCredential.expired",
    "c2pa-rs__sdk__tests__fixtures__adobe-20220124-E-clm-CAICAI.jpg": "ingredient.manifest.missing",
}


@pytest.fixture(autouse=True)
def _own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys and trust files of the person running the tests must not change the answers."""
    monkeypatch.setenv("UNMASK_HOME", str(tmp_path / "home"))


STATES_FOR = {"valid": {"valid_untrusted", "trusted"}, "invalid": {"invalid"}, "none": {"none"}}
STATES = ("none", "remote", "invalid", "valid_untrusted", "trusted")
TRUEPIC = "public-testfiles__image__jpeg__truepic-20230212-camera.jpg"
CLOUD = "c2pa-rs__sdk__tests__fixtures__cloud.jpg"
CLOUD_SIDECAR = "c2pa-rs__sdk__tests__fixtures__cloud_manifest.c2pa"
ICA_SUCCESS = (
    "c2pa-rs__sdk__src__identity__tests__fixtures__claim_aggregation__ica_validation__success.jpg"
)
X509_IDENTITY = "c2pa-rs__cli__tests__fixtures__C_with_CAWG_data.jpg"


def _rows(wanted: set[str]) -> list[tuple[str, str]]:
    if not EXPECTED.exists():
        return []
    with EXPECTED.open(encoding="utf-8") as handle:
        rows = [
            (r["file"], CORRECTIONS.get(r["file"], r["expected_state"]))
            for r in csv.DictReader(handle)
        ]
    return [row for row in rows if row[1] in wanted]


@pytest.mark.parametrize(("name", "expected"), _rows({"valid", "invalid", "none"}))
def test_verify_reports_the_state_the_source_documents_expect(
    shared_data: Path, name: str, expected: str
) -> None:
    report = read_credentials(shared_data / "c2pa" / name)
    assert report.state in STATES_FOR[expected], (report.state, report.failures)
    if expected == "invalid":
        codes = [f.code for f in report.failures]
        assert codes, "an invalid state must name the check that failed"
        if name in EXPECTED_FAILED_CHECK:
            assert EXPECTED_FAILED_CHECK[name] in codes


def test_the_table_covers_every_documented_state(shared_data: Path) -> None:
    counts = {state: len(_rows({state})) for state in STATES_FOR}
    assert counts["valid"] >= 15 and counts["invalid"] >= 15 and counts["none"] >= 5, counts


def test_every_conformance_file_gets_a_state_or_a_clear_error(shared_data: Path) -> None:
    """Hostile files (nested boxes, bad JUMBF, unknown algorithms) never raise anything else."""
    for path in sorted((shared_data / "c2pa").iterdir()):
        if path.suffix in (".csv", ".md", ".json"):
            continue
        try:
            report = read_credentials(path)
        except CredentialsError as exc:
            assert exc.message and exc.hint
            continue
        assert report.state in STATES


def _library_failures(path: Path, trust: TrustAnchors) -> list[tuple[str, str]] | None:
    """(code, explanation) of every failure c2pa-python reports for the file itself."""
    try:
        reader = c2pa.Reader(str(path), context=offline_context(trust))
    except c2pa.C2paError:
        return None
    with reader:
        results = reader.get_validation_results() or {}
    failures = (results.get("activeManifest") or {}).get("failure") or []
    return [(str(f["code"]), str(f.get("explanation", ""))) for f in failures]


def test_every_failure_is_explained_as_the_library_explains_its_code(shared_data: Path) -> None:
    """Each failure c2pa-python reports for a shared file is in the report under its own code
    and with the meaning its own explanation gives; none is dropped, none is invented. A
    "content changed" meaning only ever stands for a hash comparison that failed."""
    wrong: list[str] = []
    checked = 0
    trust = load_trust()  # what `unmask verify` uses by default: the shipped C2PA trust list
    for path in sorted((shared_data / "c2pa").iterdir()):
        library = _library_failures(path, trust)
        if library is None or path.suffix in (".csv", ".md", ".json"):
            continue
        report = read_credentials(path, trust=trust)
        ours = [f for f in report.failures + report.unchecked if f.where == "this file"]
        if {code for code, _ in library} != {f.code for f in ours}:
            wrong.append(f"{path.name}: library {library}, report {[f.code for f in ours]}")
        for failure in ours:
            checked += 1
            explanation = next(e for code, e in library if code == failure.code)
            if failure.meaning != explain_code(failure.code, explanation):
                wrong.append(f"{path.name}: {failure.code} explained as {failure.meaning!r}")
            if failure.meaning.startswith(CONTENT_CHANGED) and "do not match" not in explanation:
                wrong.append(f"{path.name}: {failure.code} ({explanation}) said to be an edit")
    assert checked >= 60, checked
    assert wrong == []


def test_the_truepic_camera_file_is_a_structural_fault_not_an_edit(shared_data: Path) -> None:
    report = read_credentials(shared_data / "c2pa" / TRUEPIC)
    (failure,) = report.failures
    assert failure.code == "assertion.dataHash.mismatch"
    assert failure.detail == "data hash exclusion does not match the manifest location in the asset"
    assert failure.meaning == STRUCTURAL_FAULT
    assert "changed after it was signed" not in report.headline
    assert "[assertion.dataHash.mismatch]" in report.headline
    text = CliRunner().invoke(app, ["verify", str(shared_data / "c2pa" / TRUEPIC)]).output
    assert "not by itself a sign that its content was edited" in " ".join(text.split())


def test_remote_credentials_have_their_own_state_and_are_not_fetched(shared_data: Path) -> None:
    path = shared_data / "c2pa" / CLOUD
    report = read_credentials(path)
    assert report.state == "remote"
    assert report.remote_url and report.remote_url.startswith("https://cai-manifests.adobe.com/")
    assert report.headline == (
        "Content Credentials stored online, not checked: they are kept at "
        f"{report.remote_url}, which unmask never fetches."
    )
    result = CliRunner().invoke(app, ["verify", str(path), "--json"])
    credentials = json.loads(result.output)["content_credentials"]
    assert credentials["state"] == "remote" and "No Content Credentials" not in result.output
    plain = CliRunner().invoke(app, ["verify", str(path)]).output
    assert f"  stored at: {report.remote_url}\n" in plain  # whole, to be copied


def test_a_sidecar_given_with_manifest_is_checked_against_the_file(shared_data: Path) -> None:
    folder = shared_data / "c2pa"
    result = CliRunner().invoke(
        app,
        ["verify", str(folder / CLOUD), "--manifest", str(folder / CLOUD_SIDECAR), "--json"],
    )
    credentials = json.loads(result.output)["content_credentials"]
    assert credentials["state"] == "valid_untrusted", credentials["headline"]
    assert credentials["manifest_source"].startswith(f"sidecar {CLOUD_SIDECAR}")
    # The same credentials against a file that differs (cloudx.jpg names another URL).
    other = CliRunner().invoke(
        app,
        [
            "verify",
            str(folder / "c2pa-rs__sdk__tests__fixtures__cloudx.jpg"),
            "--manifest",
            str(folder / CLOUD_SIDECAR),
            "--json",
        ],
    )
    failed = json.loads(other.output)["content_credentials"]
    assert failed["state"] == "invalid"
    assert failed["failures"][0]["code"] == "assertion.dataHash.mismatch"
    assert "belong to another file" in failed["failures"][0]["meaning"]


def test_a_sidecar_with_the_same_name_is_paired_automatically(
    shared_data: Path, tmp_path: Path
) -> None:
    (tmp_path / "photo.jpg").write_bytes((shared_data / "c2pa" / CLOUD).read_bytes())
    (tmp_path / "photo.c2pa").write_bytes((shared_data / "c2pa" / CLOUD_SIDECAR).read_bytes())
    result = CliRunner().invoke(app, ["verify", str(tmp_path / "photo.jpg")])
    assert result.exit_code == 0, result.output
    assert "read from: sidecar photo.c2pa (found beside the file)" in result.output
    assert "Valid Content Credentials" in result.output

    # A file with credentials of its own keeps them; the sidecar is named as not checked.
    (tmp_path / "signed.jpg").write_bytes((shared_data / "c2pa" / X509_IDENTITY).read_bytes())
    (tmp_path / "signed.c2pa").write_bytes((shared_data / "c2pa" / CLOUD_SIDECAR).read_bytes())
    own = json.loads(
        CliRunner().invoke(app, ["verify", str(tmp_path / "signed.jpg"), "--json"]).output
    )
    assert own["content_credentials"]["manifest_source"] == "embedded"
    assert any("signed.c2pa" in item for item in own["not_checked"])

    alone = CliRunner().invoke(app, ["verify", str(tmp_path / "photo.c2pa")])
    assert alone.exit_code == 2 and "--manifest" in alone.output
    assert "unmask verify photo.jpg (it is paired by name)" in " ".join(alone.output.split())
    (tmp_path / "bad.c2pa").write_bytes(b"not a manifest store" * 10)
    bad = CliRunner().invoke(
        app, ["verify", str(tmp_path / "photo.jpg"), "--manifest", str(tmp_path / "bad.c2pa")]
    )
    assert bad.exit_code == 2
    assert "could not be read as Content Credentials" in " ".join(bad.output.split())
    assert "Traceback" not in bad.output


def test_cawg_identities_are_shown_with_their_check(shared_data: Path) -> None:
    report = read_credentials(shared_data / "c2pa" / ICA_SUCCESS)
    assert report.active_manifest is not None
    (identity,) = report.active_manifest.identities
    assert identity.signature_type == "cawg.identity_claims_aggregation"
    assert identity.signer and identity.signer.startswith("did:jwk:")
    kinds = {a.kind: a for a in identity.accounts}
    assert kinds["social_media"].name == "Silly Cats 929"
    assert kinds["social_media"].provider == "Example Social Network"
    assert kinds["document_verification"].name == "First-Name Last-Name"
    # The issuer is not one anyone configured trust for: the claims are shown, not confirmed.
    assert identity.status == "not checked" and identity.codes == ["cawg.ica.untrusted_issuer"]

    x509 = read_credentials(shared_data / "c2pa" / X509_IDENTITY).active_manifest
    assert x509 is not None
    (signed,) = x509.identities
    assert (signed.signature_type, signed.signer, signed.status) == (
        "cawg.x509.cose",
        "C2PA Signer",
        "validated",
    )
    output = CliRunner().invoke(app, ["verify", str(shared_data / "c2pa" / ICA_SUCCESS)]).output
    text = " ".join(output.split())
    assert "creator identity by did:jwk:" in text and "Silly Cats 929" in text


def _verify_schema() -> dict[str, object]:
    from importlib.resources import files

    text = files("unmask").joinpath("schema/verify-result.schema.json").read_text("utf-8")
    return json.loads(text)


def test_verify_json_carries_a_schema_version_and_matches_the_schema(shared_data: Path) -> None:
    schema: dict = _verify_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    # A failed check (a structural fault), a remote manifest, CAWG identities.
    names = [TRUEPIC, CLOUD, ICA_SUCCESS]
    for name in names:
        result = CliRunner().invoke(app, ["verify", str(shared_data / "c2pa" / name), "--json"])
        document = json.loads(result.output)
        assert document["schema_version"] == schema["properties"]["schema_version"]["const"]
        jsonschema.validate(document, schema)


def test_the_c2pa_trust_list_ships_dated_and_is_used_by_default(shared_data: Path) -> None:
    shipped = shipped_c2pa_trust_list()
    assert shipped.certificates >= 20 and shipped.as_of[:2] == "20"
    assert shipped.pem.count("BEGIN CERTIFICATE") == shipped.certificates
    trust = load_trust()
    assert trust.c2pa_list == shipped and trust.user_pem is None
    report = read_credentials(shared_data / "c2pa" / X509_IDENTITY, trust=trust)
    assert report.state == "valid_untrusted"
    assert report.trust_lists == [f"the C2PA trust list as of {shipped.as_of}"]


def test_a_trusted_signer_is_labelled_with_the_list_that_vouches_for_it(tmp_path: Path) -> None:
    """Signed with a fresh test CA, then that CA put in the C2PA list's place or in yours."""
    runner = CliRunner()
    assert runner.invoke(app, ["keys", "init", "--name", "Ada Example"]).exit_code == 0
    photo = tmp_path / "photo.png"
    from PIL import Image

    Image.new("RGB", (64, 48), (90, 120, 200)).save(photo)
    signed = tmp_path / "signed.png"
    assert runner.invoke(app, ["protect", str(photo), "-o", str(signed)]).exit_code == 0
    ca = (tmp_path / "home" / "keys" / "test-ca.pem").read_text()

    as_list = TrustAnchors(C2paTrustList(ca, "2026-09-24", "test", 1), user_pem=None)
    report = read_credentials(signed, trust=as_list)
    assert report.state == "trusted"
    assert report.trusted_by == "the C2PA trust list as of 2026-09-24"
    assert "signer on the C2PA trust list as of 2026-09-24" in report.headline

    yours = read_credentials(signed, trust=TrustAnchors(shipped_c2pa_trust_list(), ca))
    assert yours.state == "trusted" and yours.trusted_by == "your trust list"
    nobody = read_credentials(signed, trust=load_trust())
    assert nobody.state == "valid_untrusted" and nobody.trusted_by is None

    # A list refreshed by hand replaces the shipped one and carries its own date.
    ca_file = tmp_path / "home" / "keys" / "test-ca.pem"
    bad = runner.invoke(app, ["keys", "import-c2pa-list", str(ca_file), "--as-of", "soon"])
    assert bad.exit_code == 2 and "not a date" in bad.output
    missing = runner.invoke(
        app, ["keys", "import-c2pa-list", str(tmp_path / "nope.pem"), "--as-of", "2027-01-31"]
    )
    assert missing.exit_code == 2 and "import-c2pa-list" in missing.output
    imported = runner.invoke(
        app, ["keys", "import-c2pa-list", str(ca_file), "--as-of", "2027-01-31"]
    )
    assert imported.exit_code == 0, imported.output
    assert "C2PA trust list: 1 CA, as of 2027-01-31" in imported.output  # one CA, not "1 CAs"
    shown = json.loads(runner.invoke(app, ["keys", "show", "--json"]).output)
    assert shown["c2pa_trust_list"].startswith("1 CA, as of 2027-01-31")
    assert "c2pa trust list: 1 CA, as of" in runner.invoke(app, ["keys", "show"]).output
    result = runner.invoke(app, ["verify", str(signed), "--json"])
    credentials = json.loads(result.output)["content_credentials"]
    assert credentials["state"] == "trusted"
    assert credentials["trusted_by"] == "the C2PA trust list as of 2027-01-31"


def test_ingredient_tree_and_actions_are_summarised(shared_data: Path) -> None:
    report = read_credentials(
        shared_data / "c2pa" / "public-testfiles__image__jpeg__adobe-20220124-CIE-sig-CA.jpg"
    )
    manifest = report.active_manifest
    assert manifest is not None
    assert [a.action for a in manifest.actions][:1] == ["c2pa.created"]
    (ingredient,) = manifest.ingredients
    assert ingredient.title == "E-sig-CA.jpg" and "claimSignature.mismatch" in ingredient.failures
    assert [child.title for child in ingredient.ingredients] == ["A.jpg"]
    assert report.failures[0].where == "ingredient 'E-sig-CA.jpg'"


def test_verify_command_explains_a_hash_mismatch_in_plain_words(shared_data: Path) -> None:
    path = shared_data / "c2pa" / "c2pa-rs__sdk__tests__fixtures__XCA.jpg"
    result = CliRunner().invoke(app, ["verify", str(path), "--json"])
    assert result.exit_code == 0, result.output
    credentials = json.loads(result.output)["content_credentials"]
    assert credentials["state"] == "invalid"
    assert "assertion.dataHash.mismatch" in credentials["headline"]
    assert "changed after it was signed" in credentials["headline"]

    text = CliRunner().invoke(app, ["verify", str(path)]).output
    assert "Invalid Content Credentials" in text and "assertion.dataHash.mismatch" in text


@pytest.mark.parametrize(
    ("name", "headline"),
    [
        ("c2pa-rs__sdk__tests__fixtures__no_manifest.jpg", "No Content Credentials."),
        ("c2pa-rs__sdk__tests__fixtures__XCA.jpg", "Invalid Content Credentials: "),
        (CLOUD, "Content Credentials stored online, not checked: they are kept at https://"),
    ],
)
def test_the_verify_headline_names_content_credentials_once(
    shared_data: Path, name: str, headline: str
) -> None:
    path = shared_data / "c2pa" / name
    report = read_credentials(path)
    assert (
        report.headline.startswith(headline) and report.headline.count("Content Credentials") == 1
    )
    shown = CliRunner().invoke(app, ["verify", str(path)]).output
    # Under the file's name, the headline as it is (compared without the terminal's wrapping).
    assert "".join(shown.split()).startswith("".join(f"{path} {report.headline}".split())), shown


def test_verify_says_no_credentials_mean_origin_unknown(shared_data: Path) -> None:
    path = shared_data / "c2pa" / "c2pa-rs__sdk__tests__fixtures__no_manifest.jpg"
    result = CliRunner().invoke(app, ["verify", str(path)])
    assert result.exit_code == 0
    assert "No Content Credentials" in result.output
    assert "not a sign of" in result.output.replace("\n", " ")


def test_verify_gives_a_clear_error_for_a_corrupt_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xeb\x00\x10jumbc2pa" + b"\x00" * 40)
    result = CliRunner().invoke(app, ["verify", str(broken), "--json"])
    assert result.exit_code in (0, 2)
    document = json.loads(result.output)
    assert "Traceback" not in result.output
    assert "error" in document or document["content_credentials"]["state"] in ("none", "invalid")
    missing = CliRunner().invoke(app, ["verify", str(tmp_path / "nope.jpg")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    as_json = CliRunner().invoke(app, ["verify", str(tmp_path / "nope.jpg"), "--json"])
    jsonschema.validate(json.loads(as_json.output), _verify_schema())


REAL_VIDEO = "videos/real/AniPortrait__configs__inference__head_pose_temp__pose_ref_video.mp4"
"""A 5 s recording whose index (moov) comes after its data, as most cameras write it."""


def _index_first(source: Path, target: Path) -> Path:
    """The same video stream remuxed with its index before its data (as web video is), so
    that the first half of the file still plays."""
    import av

    with (
        av.open(str(source)) as old,
        av.open(str(target), "w", options={"movflags": "faststart"}) as new,
    ):
        stream = new.add_stream_from_template(old.streams.video[0])
        for packet in old.demux(old.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                new.mux(packet)
    return target


def test_verify_of_a_truncated_video_says_it_is_damaged_and_exits_2(
    shared_data: Path, tmp_path: Path
) -> None:
    playable = _index_first(shared_data / REAL_VIDEO, tmp_path / "index-first.mp4")
    whole = CliRunner().invoke(app, ["verify", str(playable), "--json"])
    assert whole.exit_code == 0 and "damaged" not in json.loads(whole.output)
    for source, why in (
        (shared_data / REAL_VIDEO, "the video container is damaged"),  # index cut off
        (playable, "the video's data ends at 2.1 s of the 5.0 s"),  # plays, then stops
    ):
        data = source.read_bytes()
        half = tmp_path / f"half-of-{source.name}"
        half.write_bytes(data[: len(data) // 2])
        result = CliRunner().invoke(app, ["verify", str(half), "--json"])
        assert result.exit_code == 2, result.output
        document = json.loads(result.output)
        jsonschema.validate(document, _verify_schema())
        # "error" keeps its 1.0 meaning (nothing was checked): a damaged file says "damaged"
        assert "error" not in document and why in document["damaged"]
        both = {**document, "error": {"code": "corrupt_media", "message": why, "hint": None}}
        with pytest.raises(jsonschema.ValidationError):  # as in 1.0: results or error, not both
            jsonschema.validate(both, _verify_schema())
        assert document["content_credentials"]["state"] == "none"  # what was read is kept
        text = " ".join(CliRunner().invoke(app, ["verify", str(half)]).output.split())
        assert "Damaged: the file is damaged and could be read only in part" in text
        assert "download or copy it again" in text


def _slideshow(path: Path, rate: Fraction, frames: int, last_shown_s: float | None = None) -> Path:
    """An H.264 MP4 of `frames` pictures at `rate` frames a second, its last picture shown for
    `last_shown_s` when given (the last packet's duration, as a screen recorder writes a held
    frame)."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        packets = []
        for i in range(frames):
            picture = np.full((48, 64, 3), 20 * i, np.uint8)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, 1 / rate
            packets += stream.encode(frame)
        packets += stream.encode()
        if last_shown_s is not None:
            last = max(packets, key=lambda packet: packet.pts)
            last.duration = int(last_shown_s / last.time_base)
        for packet in packets:
            out.mux(packet)
    return path


def test_verify_of_a_slow_slideshow_or_a_held_last_frame_says_nothing_of_damage(
    tmp_path: Path,
) -> None:
    """The data ends when the last frame stops being shown, not when it starts: 3 pictures at
    0.5 fps last 6 s with the last starting at 4 s; a last frame held 5 s is no gap either."""
    for video, seconds in (
        (_slideshow(tmp_path / "slides.mp4", Fraction(1, 2), 3), 6.0),
        (_slideshow(tmp_path / "held.mp4", Fraction(25), 10, last_shown_s=5.0), 5.36),
    ):
        media = open_media(video, n_frames=1, near_keyframes=True)
        assert media.duration_s == pytest.approx(seconds, abs=0.05)
        assert media.warnings == []
        result = CliRunner().invoke(app, ["verify", str(video), "--json"])
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        assert "error" not in document and "damaged" not in document
        text = CliRunner().invoke(app, ["verify", str(video)]).output
        assert "damaged" not in text.lower()


class _DemuxBreaksAfter:
    """A PyAV container whose packets stop being readable after `good` of them, as FFmpeg
    raises on damaged data in the middle of a file (corruptions made by overwriting bytes of
    MP4, Matroska and MPEG-TS files here made FFmpeg stop quietly, or fail to decode at all,
    so the error is simulated)."""

    def __init__(self, container: object, good: int) -> None:
        self._container, self._good = container, good

    def __getattr__(self, name: str) -> object:
        return getattr(self._container, name)

    def demux(self, *streams: object) -> Iterator[object]:
        import av

        for n, packet in enumerate(self._container.demux(*streams)):
            if n == self._good:
                raise av.error.InvalidDataError(1094995529, "Invalid data found")
            yield packet


def test_verify_says_a_video_is_damaged_when_its_packets_break_part_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one sampled frame decodes, but the packets after 1.6 s of 4 s cannot be read: that is
    said (it was hidden: the error emptied the packet index and exact sampling found nothing)."""
    import av
    from media_factory import write_video

    from unmask.provenance.cli import _extra_checks

    video = write_video(tmp_path / "clip.mp4", seconds=4.0)
    assert CliRunner().invoke(app, ["verify", str(video)]).exit_code == 0
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda *a, **k: _DemuxBreaksAfter(real_open(*a, **k), 40))
    media = open_media(video, n_frames=1, near_keyframes=True)
    assert len(media.frames) == 1
    (warning,) = media.warnings
    assert "packets are unreadable after 1.6 s of the 4.0 s" in warning
    assert "Invalid data found" in warning
    extras = _extra_checks(video, None, None)
    assert "packets are unreadable after 1.6 s" in str(extras["damaged"])


def test_scan_runs_the_provenance_detector(shared_data: Path) -> None:
    media = open_media(
        shared_data / "c2pa" / "public-testfiles__image__jpeg__adobe-20220124-XCA.jpg"
    )
    findings = ProvenanceDetector().analyse(ScanContext(media=media))
    (finding,) = findings
    assert finding.code == "c2pa_invalid" and finding.strength == "info"
    assert finding.evidence["failed_checks"] == ["assertion.dataHash.mismatch"]


def test_scan_reports_remote_credentials_as_verify_does(shared_data: Path) -> None:
    path = shared_data / "c2pa" / CLOUD
    result = CliRunner().invoke(app, ["scan", str(path), "--detectors", "provenance", "--json"])
    (scanned,) = json.loads(result.output)["results"]
    (finding,) = [f for f in scanned["findings"] if f["detector"] == "provenance"]
    url = read_credentials(path).remote_url
    assert finding["code"] == "c2pa_remote" and finding["evidence"]["state"] == "remote"
    assert f"they are kept at {url}, which unmask never fetches" in finding["summary"]
    plain = CliRunner().invoke(app, ["scan", str(path), "--detectors", "provenance"]).output
    assert "stored online" in plain and "found nothing to report" not in plain
    # a file that names no remote manifest still gets no provenance finding at all
    none = open_media(shared_data / "c2pa" / "c2pa-rs__sdk__tests__fixtures__no_manifest.jpg")
    assert ProvenanceDetector().analyse(ScanContext(media=none)) == []


def test_a_missing_sidecar_is_named_not_the_picture(tmp_path: Path) -> None:
    picture = Path(__file__).resolve().parents[1] / "examples" / "astronaut.jpg"
    missing = tmp_path / "nope.c2pa"
    result = CliRunner().invoke(app, ["verify", str(picture), "--manifest", str(missing)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert f"the sidecar {missing} (given with --manifest): no such file" in text


def test_a_thumbnail_into_a_missing_folder_is_refused_without_a_traceback(
    shared_data: Path, tmp_path: Path
) -> None:
    signed = shared_data / "c2pa" / "c2pa-rs__sdk__tests__fixtures__C.jpg"
    target = tmp_path / "no-such-folder" / "thumb.jpg"
    result = CliRunner().invoke(app, ["verify", str(signed), "--thumbnail", str(target)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "does not exist" in result.output and not target.parent.exists()


def test_a_diff_folder_that_cannot_be_made_is_refused_before_the_checks(tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[1] / "examples"
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    args = ["verify", str(examples / "astronaut-edited.jpg"), "--originals", str(examples)]
    result = CliRunner().invoke(app, [*args, "--diff", str(blocker / "diff")])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "cannot make the folder" in " ".join(result.output.split())
