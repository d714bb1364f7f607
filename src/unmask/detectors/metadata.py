"""What a file's own headers say: camera, software, AI generators, Content Credentials.

Metadata is the cheapest signal there is and the easiest to remove or forge: any upload to a
social network strips most of it, and anyone can write any tag. So a present generator tag is
strong evidence (generator UIs write it by default and people rarely fake it in that
direction), while its absence says nothing. Editing software is common (phone galleries,
Lightroom, a crop in Photoshop) and is reported only as a weak hint.

Every value read here is hostile input: parsing is defensive, XML goes through defusedxml,
and a malformed value is skipped (and noted in evidence) rather than raised.

The headers are parsed in `unmask.media.headers`; generators and editors are recognised in
`generators` and `editors` next to this module. Here the clues are weighed and put in words.
"""

from __future__ import annotations

from typing import Any

from unmask.detectors.base import Detector, ScanContext, register
from unmask.detectors.editors import (
    FACE_RETOUCHING_APPS,
    PHOTOSHOP_ONLY_RESOURCES,
    PHOTOSHOP_XMP_PROPERTIES,
    editor_named,
    video_tool,
)
from unmask.detectors.generators import (
    IPTC_TOOL_KEYS,
    PNG_TOOL_KEYS,
    VALUE_EVIDENCE_CHARS,
    GeneratorClue,
    generator_clues,
)
from unmask.media.headers import (
    XmpFacts,
    clean_text,
    exif_text,
    icc_description,
    looks_like_json,
    parse_xmp,
    photoshop_resources,
)
from unmask.media.types import ImageHeaders, Media, VideoContainer
from unmask.result import Finding

NAME = "metadata"


@register
class MetadataDetector(Detector):
    """Reads EXIF, XMP, IPTC, ICC, PNG text and container tags. Never opens the file itself."""

    name = NAME
    scope = "file"
    covers = (
        "What the file's own metadata says (camera, editing software, AI-generator tags, "
        "IPTC digital source type); checked on generator outputs and unaltered photos in the "
        "project's data set. Metadata is easily removed, so its absence proves nothing."
    )

    def analyse(self, context: ScanContext) -> list[Finding]:
        media = context.media
        findings: list[Finding] = []
        # Animated images (GIF, WebP, APNG) come as kind "video" but carry image headers.
        if media.video_container is not None:
            findings.extend(_video_findings(media))
        else:
            findings.extend(_image_findings(media))
        # Content Credentials are the provenance detector's: it validates them.
        return findings


# -- images -----------------------------------------------------------------------------------


def _image_findings(media: Media) -> list[Finding]:
    headers = media.image_headers or ImageHeaders()
    notes: list[str] = []
    xmp = parse_xmp(headers.xmp) if headers.xmp else XmpFacts()
    if xmp.note:
        notes.append(xmp.note)
    exif = {str(key): value for key, value in headers.exif.items()}
    findings = [_summary_finding(media, headers, exif, xmp, notes)]
    clues = generator_clues(headers, exif, xmp)
    if clues:
        findings.append(_generator_finding(clues))
    editing = _editing_finding(media, headers, exif, xmp)
    if editing is not None:
        findings.append(editing)
    return findings


def _summary_finding(
    media: Media,
    headers: ImageHeaders,
    exif: dict[str, Any],
    xmp: XmpFacts,
    notes: list[str],
) -> Finding:
    make = clean_text(exif.get("Make"), 80)
    model = clean_text(exif.get("Model"), 80)
    taken = clean_text(exif.get("DateTimeOriginal") or exif.get("DateTime"), 40)
    software = clean_text(exif.get("Software"), 80) or _first(xmp.values("xmp:CreatorTool"), 80)
    gps = _gps_present(exif)
    icc = icc_description(headers.icc_profile) if headers.icc_profile else None
    has_xmp = headers.xmp is not None and headers.xmp.strip() != ""

    parts: list[str] = []
    make, model = (v if v and not looks_like_json(v) else None for v in (make, model))
    # Many cameras repeat the make in the model ("Canon" / "Canon EOS R6").
    same = make and model and model.lower().startswith(make.lower().split()[0])
    camera = model if same else " ".join(p for p in (make, model) if p)
    parts.append(f"camera {camera}" if camera else "no camera make or model")
    if taken:
        parts.append(f"taken {taken}")
    if software and not looks_like_json(software):
        parts.append(f"software {software}")
    parts.append("GPS location present" if gps else "no GPS location")
    if icc:
        parts.append(f"colour profile {icc!r}")
    present = [
        n for n, ok in (("EXIF", bool(exif)), ("XMP", has_xmp), ("IPTC", bool(headers.iptc))) if ok
    ]
    parts.append(f"{', '.join(present)} present" if present else "no EXIF, XMP or IPTC")
    summary = (
        f"{media.format} image, {media.width}x{media.height} pixels: " + "; ".join(parts) + "."
    )

    evidence: dict[str, Any] = {
        "format": media.format,
        "width": media.width,
        "height": media.height,
        "make": make,
        "model": model,
        "capture_time": taken,
        "software": software,
        "gps_present": gps,
        "icc_description": icc,
        "has_exif": bool(exif),
        "has_xmp": has_xmp,
        "has_iptc": bool(headers.iptc),
        "png_text_keys": sorted(clean_text(k, 60) or "" for k in headers.text_chunks)[:50],
    }
    if notes:
        evidence["notes"] = notes
    return Finding(detector=NAME, code="metadata_summary", summary=summary, evidence=evidence)


def _generator_finding(clues: list[GeneratorClue]) -> Finding:
    strong = any(c.strong for c in clues)
    named = [c for c in clues if c.generator]
    generator = next((c.generator for c in named if c.strong), None) or (
        named[0].generator if named else None
    )
    model = next((c.model for c in clues if c.model), None)
    prompt = next((c.prompt for c in clues if c.prompt), None)
    sources = sorted({c.source for c in clues})
    where = ", ".join(sources)
    declared = next(
        (
            c.details["digital_source_type"]
            for c in clues
            if c.strong and c.details.get("digital_source_type")
        ),
        None,
    )
    made_with = f"{generator} (model {model})" if model else generator
    if strong and generator and any(c.strong and c.generator for c in clues):
        summary = (
            f"The file's metadata says it was made with {made_with} ({where}); generator "
            "tools write this by default, so the picture is very likely AI-generated."
        )
    elif strong and declared == "compositeWithTrainedAlgorithmicMedia":
        summary = (
            "The file's metadata declares it a composite that includes AI-generated content "
            f"(IPTC digital source type {declared}, {where})."
        )
    elif strong:
        summary = (
            "The file's metadata declares it AI-generated (IPTC digital source type "
            f"{declared}, {where})."
        )
    elif generator:
        summary = (
            f"The file's metadata mentions {made_with} ({where}), but only in passing (for "
            "example in a caption), so this is a weak clue."
        )
    else:
        broad = next(c.details.get("digital_source_type") for c in clues)
        summary = (
            f"The file's metadata gives the IPTC digital source type {broad} ({where}): made "
            "by software or with synthetic parts, not necessarily by AI, so this is a weak clue."
        )
    evidence: dict[str, Any] = {
        "generator": generator,
        "model": model,
        "sources": sources,
        "clues": [
            {
                "source": c.source,
                "generator": c.generator,
                "strong": c.strong,
                **({"model": c.model} if c.model else {}),
                **c.details,
            }
            for c in clues
        ][:20],
    }
    if prompt:
        evidence["prompt"] = prompt
    return Finding(
        detector=NAME,
        code="ai_generator_metadata",
        summary=summary,
        indicates="ai_generation",
        strength="strong" if strong else "weak",
        score=1.0 if strong else 0.5,
        evidence=evidence,
    )


# -- editing software -------------------------------------------------------------------------


def _editing_finding(
    media: Media, headers: ImageHeaders, exif: dict[str, Any], xmp: XmpFacts
) -> Finding | None:
    mentions: list[dict[str, str]] = []

    def check(source: str, value: Any) -> None:
        text = exif_text(value) if source.startswith("exif:") else clean_text(value)
        if not text or looks_like_json(text):
            return
        editor = editor_named(text)
        if editor is not None:
            mentions.append(
                {
                    "source": source,
                    "editor": editor,
                    "value": clean_text(text, VALUE_EVIDENCE_CHARS) or "",
                }
            )

    for tag in ("Software", "ProcessingSoftware"):
        if tag in exif:
            check(f"exif:{tag}", exif[tag])
    for name in ("xmp:CreatorTool", "tiff:Software", "stEvt:softwareAgent"):
        for value in dict.fromkeys(xmp.values(name)):
            check(name, value)
    for key, value in headers.text_chunks.items():
        if str(key).lower() in PNG_TOOL_KEYS:
            check(f"png:{key}", value)
    if headers.comment:
        check("jpeg:comment", headers.comment)
    for key in IPTC_TOOL_KEYS:
        if key in headers.iptc:
            check(f"iptc:{key}", headers.iptc[key])

    ps_props = sorted(
        {k.split(":", 1)[1] for k, _ in xmp.properties if k.startswith("photoshop:")}
        & PHOTOSHOP_XMP_PROPERTIES
    )
    irb = photoshop_resources(media.raw) if headers.photoshop_irb and media.raw else None
    irb_ps = sorted(set(irb.resources) & set(PHOTOSHOP_ONLY_RESOURCES)) if irb else []
    if not mentions and not ps_props and not irb_ps:
        return None

    editors = list(dict.fromkeys(m["editor"] for m in mentions))
    if not editors and (ps_props or irb_ps):
        editors = ["Adobe Photoshop"]
    face_apps = [e for e in editors if e in FACE_RETOUCHING_APPS]
    summary = f"The file was saved by editing software ({', '.join(editors)})"
    if face_apps:
        summary += f", including the face-retouching app {', '.join(face_apps)}"
    summary += (
        "; editing software is common (cropping, colour, export) and does not by itself mean "
        "that a face was changed."
    )
    evidence: dict[str, Any] = {"editors": editors, "mentions": mentions[:20]}
    if face_apps:
        evidence["face_retouching_apps"] = face_apps
    if ps_props:
        evidence["photoshop_xmp_properties"] = ps_props
    if irb is not None:
        evidence["photoshop_irb_resources"] = [f"0x{r:04X}" for r in irb.resources[:50]]
        if irb_ps:
            evidence["photoshop_only_resources"] = [PHOTOSHOP_ONLY_RESOURCES[r] for r in irb_ps]
        if irb.writer:
            evidence["photoshop_irb_writer"] = irb.writer
    history = list(dict.fromkeys(xmp.values("stEvt:softwareAgent")))
    if history:
        evidence["xmp_history_agents"] = [clean_text(h, 120) for h in history[:20]]
    return Finding(
        detector=NAME,
        code="editing_software",
        summary=summary,
        indicates="editing",
        strength="weak",
        evidence=evidence,
    )


def _gps_present(exif: dict[str, Any]) -> bool:
    """Whether a position is recorded (the loader nests the GPS IFD under "GPSInfo")."""
    gps = exif.get("GPSInfo")
    fields = gps if isinstance(gps, dict) else exif
    return any(fields.get(key) for key in ("GPSLatitude", "GPSLongitude"))


def _first(values: list[str], limit: int) -> str | None:
    return clean_text(values[0], limit) if values else None


# -- video ------------------------------------------------------------------------------------


def _video_findings(media: Media) -> list[Finding]:
    container = media.video_container or VideoContainer(format_name=media.format)
    tags = {
        str(k).lower(): clean_text(v, VALUE_EVIDENCE_CHARS) for k, v in container.metadata.items()
    }
    stream = {
        str(k).lower(): clean_text(v, VALUE_EVIDENCE_CHARS)
        for k, v in container.stream_metadata.items()
    }
    encoder = tags.get("encoder") or stream.get("encoder")
    created = tags.get("creation_time") or stream.get("creation_time")
    codec = container.video_codec or None
    summary = (
        f"{media.format.upper()} video, {media.width}x{media.height}"
        + (f", {media.duration_s:.1f} s" if media.duration_s else "")
        + f": codec {codec or 'unknown'}; encoder {encoder or 'not recorded'}; "
        + (f"created {created}." if created else "no creation time.")
    )
    findings = [
        Finding(
            detector=NAME,
            code="metadata_summary",
            summary=summary,
            evidence={
                "format": container.format_name,
                "width": media.width,
                "height": media.height,
                "duration_s": media.duration_s,
                "video_codec": codec,
                "audio_codec": container.audio_codec,
                "encoder": encoder,
                "creation_time": created,
            },
        )
    ]

    handlers = [v for k, v in stream.items() if k == "handler_name" and v]
    evidence: dict[str, Any] = {
        "format": container.format_name,
        "encoder": encoder,
        "creation_time": created,
        "major_brand": tags.get("major_brand"),
        "compatible_brands": tags.get("compatible_brands"),
        "handler_names": handlers,
        "stream_encoder": stream.get("encoder"),
        "bit_rate": container.bit_rate,
    }
    tool, kind = video_tool(
        " ".join(filter(None, [tags.get("encoder"), stream.get("encoder"), *handlers]))
    )
    if tool is None:
        summary = (
            "Container tags: "
            + (f"encoder {encoder}" if encoder else "no encoder tag")
            + (f", major brand {tags['major_brand']}." if tags.get("major_brand") else ".")
        )
        findings.append(
            Finding(detector=NAME, code="video_container", summary=summary, evidence=evidence)
        )
        return findings
    evidence["written_by"] = tool
    evidence["tool_kind"] = kind
    if kind == "editor":
        summary = (
            f"The video was last written by the video editor {tool}; editing is normal "
            f"(cutting, titles, export) and does not by itself mean a face was changed."
        )
    else:
        summary = (
            f"The video was last written by {tool}, a conversion tool; nearly every uploaded or "
            f"shared video is re-encoded, so this only says the file is not straight from a camera."
        )
    findings.append(
        Finding(
            detector=NAME,
            code="video_container",
            summary=summary,
            # Re-encoding is what every upload goes through: context, not a hint of editing.
            indicates="editing" if kind == "editor" else "none",
            strength="weak" if kind == "editor" else "info",
            evidence=evidence,
        )
    )
    return findings
