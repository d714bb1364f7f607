"""The metadata detector: what a file's own headers say, read through the real loader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from unmask.detectors.base import ScanContext, create_detector
from unmask.detectors.metadata import MetadataDetector
from unmask.media import ImageHeaders, Media, open_media
from unmask.media.headers import XMP_MAX_PACKET_CHARS, parse_xmp
from unmask.result import Finding

PNG_GENERATOR_KEYS = {"parameters", "prompt", "workflow", "invokeai_metadata", "sd-metadata"}
DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
A1111_PARAMETERS = (
    "portrait photo of a woman in a red coat, city street, bokeh\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567, Size: 512x512, "
    "Model hash: 6ce0161689, Model: realisticVisionV60B1_v51VAE, Version: v1.9.4"
)


def scan(path: Path) -> list[Finding]:
    return MetadataDetector().analyse(ScanContext(media=open_media(path)))


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def only(findings: list[Finding], code: str) -> Finding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, f"expected one {code}, got {codes(findings)}"
    return matching[0]


def photo(shared_data: Path) -> Image.Image:
    """A real photo without metadata (Unsplash, via the Stable Diffusion repository)."""
    name = "stable-diffusion__data__inpainting_examples__alex-iby-G_Pk4D9rMLs.png"
    return Image.open(shared_data / "generated" / "real_counterparts" / name).convert("RGB")


def xmp_packet(source_type: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" '
        'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f"<Iptc4xmpExt:DigitalSourceType>{DIGITAL_SOURCE_TYPE}{source_type}"
        "</Iptc4xmpExt:DigitalSourceType>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def save_with_xmp(image: Image.Image, path: Path, packet: bytes) -> Path:
    if path.suffix == ".png":  # Pillow writes PNG XMP only as the standard iTXt chunk
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", packet.decode())
        image.save(path, pnginfo=info)
    else:
        image.save(path, xmp=packet)
    return path


# -- AI generators ----------------------------------------------------------------------------


def test_every_generator_ui_png_in_the_data_is_flagged_with_its_generator(shared_data: Path):
    files = [
        p
        for p in sorted((shared_data / "generated" / "ai").glob("*.png"))
        if PNG_GENERATOR_KEYS & set(Image.open(p).info)
    ]
    assert len(files) >= 6, "the data set's ComfyUI examples carry prompt/workflow chunks"
    for path in files:
        finding = only(scan(path), "ai_generator_metadata")
        assert finding.indicates == "ai_generation"
        assert finding.strength == "strong"
        assert finding.evidence["generator"] == "ComfyUI", path.name
        assert finding.evidence["model"], path.name
        assert "ComfyUI" in finding.summary
        assert len(finding.evidence.get("prompt") or "") <= 300
        json.dumps(finding.evidence)


def test_comfyui_workflow_hidden_in_webp_exif_is_found(shared_data: Path):
    path = shared_data / "generated" / "ai" / "ComfyUI_examples__wan__text_to_video_wan.webp"
    finding = only(scan(path), "ai_generator_metadata")
    assert finding.evidence["generator"] == "ComfyUI"
    assert finding.evidence["model"] == "wan2.1_t2v_1.3B_fp16.safetensors"
    assert finding.evidence["prompt"].startswith("a fox moving quickly")


def test_generator_outputs_without_metadata_are_not_flagged_by_this_detector(shared_data: Path):
    # Stable Diffusion v1 reference scripts write no text chunks: only their invisible
    # watermark tells (another detector's job). Absence of metadata proves nothing.
    for path in sorted((shared_data / "generated" / "ai").glob("*txt2img-samples*.png")):
        assert "ai_generator_metadata" not in codes(scan(path)), path.name


def test_automatic1111_parameters_name_the_generator_and_model(shared_data: Path, tmp_path: Path):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111_PARAMETERS)
    path = tmp_path / "00001-1234567.png"
    photo(shared_data).save(path, pnginfo=info)
    finding = only(scan(path), "ai_generator_metadata")
    assert finding.strength == "strong"
    assert finding.evidence["generator"] == "AUTOMATIC1111"
    assert finding.evidence["model"] == "realisticVisionV60B1_v51VAE"
    assert finding.evidence["prompt"].startswith("portrait photo of a woman")
    assert "realisticVisionV60B1_v51VAE" in finding.summary


def test_automatic1111_parameters_in_jpeg_user_comment_are_found(shared_data: Path, tmp_path: Path):
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + A1111_PARAMETERS.encode("utf-16-be")
    path = tmp_path / "a1111.jpg"
    photo(shared_data).save(path, exif=exif, quality=92)
    finding = only(scan(path), "ai_generator_metadata")
    assert finding.evidence["generator"] == "AUTOMATIC1111"
    assert finding.evidence["sources"] == ["exif:UserComment"]


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
@pytest.mark.parametrize(
    ("source_type", "strength"),
    [
        ("trainedAlgorithmicMedia", "strong"),
        ("compositeWithTrainedAlgorithmicMedia", "strong"),
        ("algorithmicMedia", "weak"),
    ],
)
def test_iptc_digital_source_type_in_xmp_is_flagged(
    shared_data: Path, tmp_path: Path, suffix: str, source_type: str, strength: str
):
    path = save_with_xmp(photo(shared_data), tmp_path / f"image{suffix}", xmp_packet(source_type))
    finding = only(scan(path), "ai_generator_metadata")
    assert finding.strength == strength
    assert finding.evidence["clues"][0]["digital_source_type"] == source_type


def test_digital_source_type_of_a_camera_photo_is_not_flagged(shared_data: Path, tmp_path: Path):
    packet = xmp_packet("digitalCapture")
    path = save_with_xmp(photo(shared_data), tmp_path / "camera.jpg", packet)
    assert "ai_generator_metadata" not in codes(scan(path))


def test_generator_named_in_exif_software_is_strong(shared_data: Path, tmp_path: Path):
    exif = Image.Exif()
    exif[0x0131] = "Adobe Firefly"  # Software
    path = tmp_path / "firefly.jpg"
    photo(shared_data).save(path, exif=exif)
    finding = only(scan(path), "ai_generator_metadata")
    assert finding.strength == "strong"
    assert finding.evidence["generator"] == "Adobe Firefly"


def test_a_caption_that_mentions_a_generator_is_only_a_weak_clue(shared_data: Path, tmp_path: Path):
    exif = Image.Exif()
    exif[0x010E] = "Panel discussion on Stable Diffusion and artists' rights, Berlin"
    path = tmp_path / "caption.jpg"
    photo(shared_data).save(path, exif=exif)
    finding = only(scan(path), "ai_generator_metadata")
    assert finding.strength == "weak"


def test_no_real_photo_in_the_data_is_taken_for_ai(shared_data: Path):
    paths = sorted((shared_data / "faces" / "real").iterdir())
    paths += sorted((shared_data / "generated" / "real_counterparts").iterdir())
    assert len(paths) > 1000
    detector = create_detector("metadata")
    flagged: list[str] = []
    for path in paths:
        findings = detector.analyse(ScanContext(media=open_media(path)))
        if "ai_generator_metadata" in codes(findings):
            flagged.append(path.name)
    assert flagged == []


# -- editing software -------------------------------------------------------------------------


def test_photoshop_in_exif_software_is_weak_editing(shared_data: Path, tmp_path: Path):
    exif = Image.Exif()
    exif[0x0131] = "Adobe Photoshop 25.0"
    path = tmp_path / "edited.jpg"
    photo(shared_data).save(path, exif=exif)
    findings = scan(path)
    finding = only(findings, "editing_software")
    assert (finding.indicates, finding.strength) == ("editing", "weak")
    assert finding.evidence["editors"] == ["Adobe Photoshop"]
    assert "does not by itself mean" in finding.summary
    assert "ai_generator_metadata" not in codes(findings)


def test_face_retouching_apps_are_named(shared_data: Path, tmp_path: Path):
    exif = Image.Exif()
    exif[0x0131] = "Facetune2 2.31"
    path = tmp_path / "retouched.jpg"
    photo(shared_data).save(path, exif=exif)
    finding = only(scan(path), "editing_software")
    assert finding.evidence["face_retouching_apps"] == ["Facetune"]


def test_photoshop_image_resources_in_a_real_photo_are_read(shared_data: Path):
    path = shared_data / "faces" / "real" / "deepface__tests__unit__dataset__img1.jpg"
    findings = scan(path)
    finding = only(findings, "editing_software")
    assert finding.evidence["photoshop_irb_writer"] == "Adobe Photoshop"
    assert "version info" in finding.evidence["photoshop_only_resources"]
    summary = only(findings, "metadata_summary").evidence
    assert summary["icc_description"] == "sRGB IEC61966-2.1"
    assert summary["model"] == "Canon EOS 5D Mark IV"


def test_a_plain_camera_photo_has_no_editing_finding(shared_data: Path, tmp_path: Path):
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS R6"
    path = tmp_path / "camera.jpg"
    photo(shared_data).save(path, exif=exif)
    findings = scan(path)
    assert codes(findings) == {"metadata_summary"}
    assert "Canon EOS R6" in findings[0].summary


# -- summary, privacy, provenance -------------------------------------------------------------


def test_gps_is_reported_as_present_without_coordinates(shared_data: Path, tmp_path: Path):
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 29.5), 3: "E", 4: (2.0, 17.0, 40.2)})
    path = tmp_path / "located.jpg"
    photo(shared_data).save(path, exif=exif)
    finding = only(scan(path), "metadata_summary")
    assert finding.evidence["gps_present"] is True
    assert "GPS location present" in finding.summary
    text = finding.summary + json.dumps(finding.evidence)
    assert "29.5" not in text and "40.2" not in text


def test_content_credentials_are_left_to_the_provenance_check(shared_data: Path):
    signed = shared_data / "c2pa" / "c2pa-rs__sdk__tests__fixtures__C.jpg"
    assert not [c for c in codes(scan(signed)) if "c2pa" in c]


def test_video_container_names_the_reencoding_tool_carefully(shared_data: Path):
    path = next(
        p
        for p in sorted((shared_data / "videos" / "real").glob("*.mp4"))
        if "Lavf" in open_media(p, n_frames=1).video_container.metadata.get("encoder", "")
    )
    findings = MetadataDetector().analyse(ScanContext(media=open_media(path, n_frames=1)))
    assert only(findings, "metadata_summary").evidence["encoder"].startswith("Lavf")
    container = only(findings, "video_container")
    # every upload is re-encoded: context for an investigator, no weight in the verdict
    assert (container.indicates, container.strength) == ("none", "info")
    assert container.evidence["written_by"] == "FFmpeg"
    assert "re-encoded" in container.summary


# -- hostile and broken metadata --------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol4;</x:xmpmeta>'
)


@pytest.mark.parametrize(
    "packet",
    [
        b"\x00\xff\xfe garbage <x:xmpmeta <rdf:RDF \x01\x02",
        BILLION_LAUGHS.encode(),
        b"<x:xmpmeta>" + b"<a>" * 5000 + b"</x:xmpmeta>",
        xmp_packet("trainedAlgorithmicMedia")[:-60],  # truncated
    ],
)
def test_malformed_xmp_never_crashes(shared_data: Path, tmp_path: Path, packet: bytes):
    path = tmp_path / "broken.jpg"
    photo(shared_data).save(path, xmp=packet)
    findings = scan(path)
    assert "metadata_summary" in codes(findings)


def test_truncated_xmp_still_yields_its_source_type_by_pattern(shared_data: Path, tmp_path: Path):
    path = tmp_path / "truncated.jpg"
    photo(shared_data).save(path, xmp=xmp_packet("trainedAlgorithmicMedia")[:-60])
    findings = scan(path)
    assert only(findings, "ai_generator_metadata").strength == "strong"
    assert only(findings, "metadata_summary").evidence["notes"]


def test_xmp_is_found_inside_surrounding_junk_and_parsed_as_xml():
    packet = b"\x00junk<?xpacket begin?>" + xmp_packet("trainedAlgorithmicMedia") + b"\xff tail"
    facts = parse_xmp(packet)
    assert facts.note is None
    assert facts.values("Iptc4xmpExt:DigitalSourceType") == [
        DIGITAL_SOURCE_TYPE + "trainedAlgorithmicMedia"
    ]


def test_repeated_xmp_openers_are_read_once_and_yield_the_patterned_values():
    # The shape that made a backtracking pattern take minutes on a 1 MB PNG: openers without
    # closers, then a value the fallback must still find.
    packet = '<x:xmpmeta xmlns:x="adobe:ns:meta/">' * 20_000 + 'xmp:CreatorTool="Midjourney"'
    facts = parse_xmp(packet)
    assert facts.values("xmp:CreatorTool") == ["Midjourney"]
    assert "not well-formed" in (facts.note or "")


def test_an_oversized_xmp_packet_is_cut_and_the_cut_is_noted():
    filler = "<!-- " + "x" * (XMP_MAX_PACKET_CHARS + 10) + " -->"
    facts = parse_xmp(filler + 'xmp:CreatorTool="Midjourney"')
    assert facts.values("xmp:CreatorTool") == []  # beyond the cut: not read
    assert "the rest was not read" in (facts.note or "")


def test_pattern_fallback_reads_attribute_element_and_resource_forms_but_not_closing_tags():
    text = (
        '<broken xmp:CreatorTool = "GIMP 2.10"><stEvt:softwareAgent>Adobe Photoshop 25.0'
        "</stEvt:softwareAgent>stray<Iptc4xmpExt:DigitalSourceType "
        'rdf:resource="http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"'
    )
    facts = parse_xmp(text)
    assert facts.values("xmp:CreatorTool") == ["GIMP 2.10"]
    assert facts.values("stEvt:softwareAgent") == ["Adobe Photoshop 25.0"]
    assert facts.values("regex:DigitalSourceType") == [DIGITAL_SOURCE_TYPE + "algorithmicMedia"]


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_garbage_exif_never_crashes(shared_data: Path, tmp_path: Path):
    path = tmp_path / "garbage-exif.jpg"
    photo(shared_data).save(
        path, exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff" + bytes(range(256))
    )
    assert "metadata_summary" in codes(scan(path))


def test_odd_header_values_are_skipped_not_raised():
    headers = ImageHeaders(
        exif={
            "Software": b"\xff\xfe\x00Photoshop\x00",
            "UserComment": b"UNICODE\x00\xd8\x00",
            "Make": 12345,
            "Model": ("a", 1, None),
            "GPSInfo": "not a dict",
            7: {"nested": [1, 2]},
        },
        xmp="<x:xmpmeta><",
        iptc={"2:65": ["Midjourney", None], "2:120": b"\x00\x01"},
        icc_profile=b"\x00" * 128 + b"\xff\xff\xff\xff" + b"desc" * 10,
        text_chunks={"prompt": "{not json", "workflow": "[]", "Comment": '{"uc": 1}'},
        photoshop_irb=True,
    )
    raw = b"\xff\xd8\xff\xed\x00\x30Photoshop 3.0\x008BIM\x04\x21\x00\x00\xff\xff\xff\xff"
    media = Media(
        path="odd.jpg",
        kind="image",
        format="JPEG",
        mime="image/jpeg",
        size_bytes=len(raw),
        sha256="0" * 64,
        width=8,
        height=8,
        frames=[],
        raw=raw,
        image_headers=headers,
    )
    findings = MetadataDetector().analyse(ScanContext(media=media))
    json.dumps([f.evidence for f in findings])
    assert "metadata_summary" in codes(findings)


def test_registered_under_its_name():
    assert isinstance(create_detector("metadata"), MetadataDetector)
