"""What a file's own headers say: camera, software, AI generators, Content Credentials.

Metadata is the cheapest signal there is and the easiest to remove or forge: any upload to a
social network strips most of it, and anyone can write any tag. So a present generator tag is
strong evidence (generator UIs write it by default and people rarely fake it in that
direction), while its absence says nothing. Editing software is common (phone galleries,
Lightroom, a crop in Photoshop) and is reported only as a weak hint.

Every value read here is hostile input: parsing is defensive, XML goes through defusedxml,
and a malformed value is skipped (and noted in evidence) rather than raised.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from defusedxml import ElementTree as SafeET  # type: ignore[import-untyped]

from unmask.detectors.base import Detector, ScanContext, register
from unmask.media.types import ImageHeaders, Media, VideoContainer
from unmask.result import Finding

NAME = "metadata"

PROMPT_EVIDENCE_CHARS = 300
"""A prompt is kept in evidence only this far: enough to quote, not a whole workflow."""
VALUE_EVIDENCE_CHARS = 200
XMP_MAX_PARSE_CHARS = 4_000_000
"""Larger packets (Extended XMP can be megabytes) are read with regular expressions only."""
JSON_MAX_CHARS = 8_000_000

# -- what names what --------------------------------------------------------------------------

# Tool names as generator UIs and services write them into Software / CreatorTool / Make
# fields. Matched in fields that name a program; in free text (captions) only the
# unambiguous names count, and only as a weak clue, because a news caption may mention them.
_GENERATORS: tuple[tuple[str, str, bool], ...] = (
    # (name shown to the user, case-insensitive regex, unambiguous in free text)
    ("Midjourney", r"\bmidjourney\b", True),
    ("DALL·E", r"\bdall[\s\-·.•]?e\b", True),
    ("Stable Diffusion", r"\bstable[\s\-_]?diffusion\b|\bsdxl\b", True),
    ("Adobe Firefly", r"\badobe\s+firefly\b", True),
    ("Imagen", r"\bimagen\s*\d*$|\bgoogle\s+imagen\b", False),
    ("NovelAI", r"\bnovel\s?ai\b", True),
    ("ComfyUI", r"\bcomfy\s?ui\b", True),
    ("AUTOMATIC1111", r"\bautomatic1111\b", True),
    ("InvokeAI", r"\binvoke\s?ai\b", True),
    ("Fooocus", r"\bfooocus\b", True),
    ("Leonardo.Ai", r"\bleonardo\.ai\b", True),
    ("Ideogram", r"\bideogram\b", False),
    ("Draw Things", r"\bdraw things\b", False),
    ("DreamStudio", r"\bdreamstudio\b", True),
    ("Bing Image Creator", r"\bbing image creator\b", True),
    ("Kandinsky", r"\bkandinsky\b", False),
    ("Craiyon", r"\bcraiyon\b", True),
    ("DiffusionBee", r"\bdiffusionbee\b", True),
)

# Editors and retouching apps as they name themselves in Software / CreatorTool / history.
_EDITORS: tuple[tuple[str, str], ...] = (
    ("Adobe Photoshop", r"photoshop"),
    ("Adobe Lightroom", r"lightroom"),
    ("Adobe Camera Raw", r"camera raw"),
    ("GIMP", r"\bgimp\b"),
    ("Affinity Photo", r"\baffinity\b"),
    ("Snapseed", r"snapseed"),
    ("Pixelmator", r"pixelmator"),
    ("Canva", r"\bcanva\b"),
    ("Paint.NET", r"paint\.net"),
    ("Photopea", r"photopea"),
    ("Krita", r"\bkrita\b"),
    ("Corel PaintShop", r"paintshop|paint shop pro"),
    ("Luminar", r"\bluminar\b"),
    ("Capture One", r"capture one"),
    ("darktable", r"darktable"),
    ("RawTherapee", r"rawtherapee"),
    ("PhotoDirector", r"photodirector"),
    ("Fotor", r"\bfotor\b"),
    ("PicsArt", r"picsart"),
    ("Windows Photo Editor", r"windows photo editor"),
    ("FaceApp", r"faceapp"),
    ("Facetune", r"facetune"),
    ("Meitu", r"\bmeitu\b"),
    ("BeautyPlus", r"beautyplus"),
    ("AirBrush", r"\bairbrush\b"),
    ("YouCam", r"youcam"),
    ("Reface", r"\breface\b"),
)
_FACE_RETOUCHING = {"FaceApp", "Facetune", "Meitu", "BeautyPlus", "AirBrush", "YouCam", "Reface"}
"""Apps made to change faces: still only "editing", but worth telling the user by name."""

# Video: what last wrote the container. Re-encoders touch nearly every uploaded video.
_VIDEO_REENCODERS: tuple[tuple[str, str], ...] = (
    ("FFmpeg", r"\blav[fc]\d|ffmpeg"),
    ("HandBrake", r"handbrake"),
)
_VIDEO_EDITORS: tuple[tuple[str, str], ...] = (
    ("Adobe Premiere", r"premiere"),
    ("Adobe After Effects", r"after effects"),
    ("Adobe Media Encoder", r"media encoder"),
    ("DaVinci Resolve", r"davinci|resolve"),
    ("Final Cut Pro", r"final cut"),
    ("iMovie", r"imovie"),
    ("CapCut", r"capcut"),
    ("Shotcut", r"shotcut"),
    ("Kdenlive", r"kdenlive"),
    ("OpenShot", r"openshot"),
    ("Filmora", r"filmora"),
    ("Movavi", r"movavi"),
    ("Camtasia", r"camtasia"),
    ("InShot", r"inshot"),
    ("VSDC", r"\bvsdc\b"),
)

# IPTC NewsCodes "Digital Source Type" (https://cv.iptc.org/newscodes/digitalsourcetype/),
# written to XMP Iptc4xmpExt:DigitalSourceType by Adobe, Google, Meta, OpenAI and others.
_DIGITAL_SOURCE_TYPES_STRONG = {
    "trainedalgorithmicmedia": "trainedAlgorithmicMedia",
    "compositewithtrainedalgorithmicmedia": "compositeWithTrainedAlgorithmicMedia",
}
_DIGITAL_SOURCE_TYPES_WEAK = {
    "algorithmicmedia": "algorithmicMedia",
    "compositesynthetic": "compositeSynthetic",
}

# Adobe Photoshop File Formats Specification, "Image Resource IDs": resources only Photoshop
# writes. An APP13 block holding just IPTC (0x0404) and its digest (0x0425) is what captioning
# tools (Photo Mechanic, agency workflows) write, and says nothing about editing.
_PHOTOSHOP_ONLY_RESOURCES = {
    0x0400: "layer state",
    0x0402: "layer groups",
    0x0406: "JPEG quality",
    0x0408: "grid and guides",
    0x040D: "global angle",
    0x0414: "document-specific IDs seed",
    0x0419: "global altitude",
    0x041A: "slices",
    0x0421: "version info",
}
# XMP properties of the photoshop: namespace that Photoshop itself writes. The namespace's
# caption fields (photoshop:Credit, Headline, City, ...) are IPTC Core and come from any
# captioning tool, so they are not counted.
_PHOTOSHOP_XMP_PROPERTIES = {
    "ColorMode",
    "ICCProfile",
    "History",
    "DocumentAncestors",
    "TextLayers",
}

_XMP_PREFIXES = {
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#": "stEvt",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://iptc.org/std/Iptc4xmpExt/2008-02-29/": "Iptc4xmpExt",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
}

_EXIF_TOOL_FIELDS = ("Software", "ProcessingSoftware", "Make", "Model", "HostComputer")
_EXIF_TEXT_FIELDS = ("ImageDescription", "UserComment", "XPComment", "Artist", "Copyright")
_PNG_TOOL_KEYS = {"software", "source", "generator", "creator tool", "creator", "author"}
_IPTC_TOOL_KEYS = ("2:65", "2:70")
"""IPTC-IIM Originating Program and Program Version."""


@dataclass
class _GeneratorClue:
    source: str
    """Where it was found, e.g. "png:parameters", "exif:Software", "xmp:DigitalSourceType"."""
    generator: str | None
    strong: bool
    model: str | None = None
    prompt: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class _XmpFacts:
    properties: list[tuple[str, str]] = field(default_factory=list)
    """(prefix:Name, value) pairs, in document order."""
    note: str | None = None
    """Set when the packet was not well-formed and only patterns were read."""

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.properties if key == name]


@register
class MetadataDetector(Detector):
    """Reads EXIF, XMP, IPTC, ICC, PNG text and container tags. Never opens the file itself."""

    name = NAME
    scope = "file"
    covers = (
        "What the file's own metadata says (camera, editing software, AI-generator tags, "
        "IPTC digital source type); checked on generator outputs and real photos in the "
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
        if media.has_c2pa_manifest:
            findings.append(
                Finding(
                    detector=NAME,
                    code="c2pa_manifest_present",
                    summary=(
                        "The file carries C2PA Content Credentials; `unmask verify` checks "
                        "whether they are valid (files without credentials are neither more "
                        "nor less trustworthy)."
                    ),
                    evidence={"c2pa_manifest": True},
                )
            )
        return findings


# -- images -----------------------------------------------------------------------------------


def _image_findings(media: Media) -> list[Finding]:
    headers = media.image_headers or ImageHeaders()
    notes: list[str] = []
    xmp = _parse_xmp(headers.xmp) if headers.xmp else _XmpFacts()
    if xmp.note:
        notes.append(xmp.note)
    exif = {str(key): value for key, value in headers.exif.items()}
    findings = [_summary_finding(media, headers, exif, xmp, notes)]
    clues = _generator_clues(headers, exif, xmp)
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
    xmp: _XmpFacts,
    notes: list[str],
) -> Finding:
    make = _text(exif.get("Make"), 80)
    model = _text(exif.get("Model"), 80)
    taken = _text(exif.get("DateTimeOriginal") or exif.get("DateTime"), 40)
    software = _text(exif.get("Software"), 80) or _first(xmp.values("xmp:CreatorTool"), 80)
    gps = _gps_present(exif)
    icc = _icc_description(headers.icc_profile) if headers.icc_profile else None
    has_xmp = headers.xmp is not None and headers.xmp.strip() != ""

    parts: list[str] = []
    make, model = (v if v and not _looks_like_json(v) else None for v in (make, model))
    # Many cameras repeat the make in the model ("Canon" / "Canon EOS R6").
    same = make and model and model.lower().startswith(make.lower().split()[0])
    camera = model if same else " ".join(p for p in (make, model) if p)
    parts.append(f"camera {camera}" if camera else "no camera make or model")
    if taken:
        parts.append(f"taken {taken}")
    if software and not _looks_like_json(software):
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
        "png_text_keys": sorted(_text(k, 60) or "" for k in headers.text_chunks)[:50],
    }
    if notes:
        evidence["notes"] = notes
    return Finding(detector=NAME, code="metadata_summary", summary=summary, evidence=evidence)


def _generator_finding(clues: list[_GeneratorClue]) -> Finding:
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


# -- AI generators ----------------------------------------------------------------------------


def _generator_clues(
    headers: ImageHeaders, exif: dict[str, Any], xmp: _XmpFacts
) -> list[_GeneratorClue]:
    clues: list[_GeneratorClue] = []
    chunks = {str(k): v for k, v in headers.text_chunks.items() if isinstance(v, str | bytes)}
    chunks_lower = {k.lower(): (k, _text(v) or "") for k, v in chunks.items()}

    # Generator UIs that store their settings in PNG text chunks.
    for key, (orig, text) in chunks_lower.items():
        clue: _GeneratorClue | None = None
        if key == "parameters":
            clue = _a1111_clue(f"png:{orig}", text, fooocus="fooocus_scheme" in chunks_lower)
        elif key in ("prompt", "workflow"):
            clue = _comfyui_clue(f"png:{orig}", text)
        elif key in ("invokeai_metadata", "invokeai_graph", "sd-metadata", "dream"):
            clue = _invokeai_clue(f"png:{orig}", text)
        elif key == "use_stable_diffusion_model":
            clue = _GeneratorClue(f"png:{orig}", "Easy Diffusion", True, model=_text(text, 120))
        elif key == "comment" and _looks_like_json(text):
            clue = _novelai_comment_clue(f"png:{orig}", text, chunks_lower)
        elif key in ("description", "comment"):
            clue = _free_text_clue(f"png:{orig}", text)
        elif key in _PNG_TOOL_KEYS:
            clue = _tool_name_clue(f"png:{orig}", text)
        if clue is not None:
            clues.append(clue)

    # EXIF: tool fields by name; A1111 writes its parameters into UserComment of JPEG/WebP;
    # ComfyUI's animated WebP stores "prompt:{...}" / "workflow:{...}" in Model / Make.
    for tag in _EXIF_TOOL_FIELDS + _EXIF_TEXT_FIELDS:
        if tag not in exif:
            continue
        exif_value = _exif_text(exif[tag])
        if not exif_value:
            continue
        clue = _embedded_settings_clue(f"exif:{tag}", exif_value)
        if clue is None:
            if tag in _EXIF_TOOL_FIELDS:
                clue = _tool_name_clue(f"exif:{tag}", exif_value)
            else:
                clue = _free_text_clue(f"exif:{tag}", exif_value)
        if clue is not None:
            clues.append(clue)

    if headers.comment:
        clue = _embedded_settings_clue("jpeg:comment", headers.comment) or _free_text_clue(
            "jpeg:comment", headers.comment
        )
        if clue is not None:
            clues.append(clue)

    for name in ("xmp:CreatorTool", "tiff:Software", "stEvt:softwareAgent"):
        for value in xmp.values(name):
            clue = _tool_name_clue(name, value)
            if clue is not None:
                clues.append(clue)
    for key in _IPTC_TOOL_KEYS:
        program = _text(headers.iptc.get(key))
        if program:
            clue = _tool_name_clue(f"iptc:{key}", program)
            if clue is not None:
                clues.append(clue)

    # IPTC digital source type, in XMP (and in any IPTC-IIM value that spells out the URI).
    source_values = [
        (f"xmp:{key.removeprefix('regex:')}", value)
        for key, value in xmp.properties
        if key.endswith(":DigitalSourceType")
    ]
    for key, raw_value in headers.iptc.items():
        iptc_text = _text(raw_value)
        if iptc_text and "digitalsourcetype" in iptc_text.lower():
            source_values.append((f"iptc:{key}", iptc_text))
    seen: set[str] = set()
    for source, value in source_values:
        term = value.strip().rstrip("/").rsplit("/", 1)[-1].strip().lower()
        if term in seen:
            continue
        if term in _DIGITAL_SOURCE_TYPES_STRONG or term in _DIGITAL_SOURCE_TYPES_WEAK:
            seen.add(term)
            strong = term in _DIGITAL_SOURCE_TYPES_STRONG
            canonical = (_DIGITAL_SOURCE_TYPES_STRONG | _DIGITAL_SOURCE_TYPES_WEAK)[term]
            clues.append(
                _GeneratorClue(
                    source,
                    None,
                    strong,
                    details={
                        "digital_source_type": canonical,
                        "value": _text(value, VALUE_EVIDENCE_CHARS),
                    },
                )
            )
    return clues


def _embedded_settings_clue(source: str, text: str) -> _GeneratorClue | None:
    """Generator settings written into a general-purpose text field."""
    stripped = text.lstrip()
    for prefix in ("prompt:", "workflow:"):
        if stripped.lower().startswith(prefix):
            return _comfyui_clue(source, stripped[len(prefix) :])
    if _A1111_STEPS.search(text):
        return _a1111_clue(source, text, fooocus=False)
    return None


_A1111_STEPS = re.compile(r"(?:^|\n|, )Steps: \d+")
_A1111_FIELD = re.compile(r"(?:^|, |\n)(Model|Version|Sampler|Seed|Model hash): ([^,\n]+)")


def _a1111_clue(source: str, text: str, *, fooocus: bool) -> _GeneratorClue | None:
    """AUTOMATIC1111 / Forge / SD.Next "parameters": prompt, "Negative prompt:", "Steps: ..."."""
    if _looks_like_json(text):
        data = _json(text)
        if isinstance(data, dict):
            if "sui_image_params" in data:
                params = data["sui_image_params"]
                params = params if isinstance(params, dict) else {}
                return _GeneratorClue(
                    source,
                    "SwarmUI",
                    True,
                    model=_text(params.get("model"), 120),
                    prompt=_text(params.get("prompt"), PROMPT_EVIDENCE_CHARS),
                )
            if fooocus or any("fooocus" in str(k).lower() for k in data) or "Fooocus" in text:
                return _GeneratorClue(
                    source,
                    "Fooocus",
                    True,
                    model=_text(data.get("base_model") or data.get("Base Model"), 120),
                    prompt=_text(data.get("prompt") or data.get("Prompt"), PROMPT_EVIDENCE_CHARS),
                )
        return None
    if not _A1111_STEPS.search(text) or not re.search(r"\b(Sampler|Seed|CFG scale): ", text):
        return None
    fields = {m.group(1): m.group(2).strip() for m in _A1111_FIELD.finditer(text)}
    version = fields.get("Version", "")
    if fooocus or "fooocus" in version.lower():
        generator = "Fooocus"
    elif re.match(r"f\d", version):
        generator = "Stable Diffusion WebUI Forge"
    else:
        generator = "AUTOMATIC1111"
    prompt = re.split(r"\nNegative prompt:|\nSteps: ", text, maxsplit=1)[0]
    details = {
        k.lower().replace(" ", "_"): _text(v, 120) for k, v in fields.items() if k != "Model"
    }
    return _GeneratorClue(
        source,
        generator,
        True,
        model=_text(fields.get("Model"), 120),
        prompt=_text(prompt, PROMPT_EVIDENCE_CHARS) if "Steps: " not in prompt[:8] else None,
        details=details,
    )


_COMFY_MODEL_INPUTS = ("ckpt_name", "unet_name", "model_name")


def _comfyui_clue(source: str, text: str) -> _GeneratorClue | None:
    """ComfyUI's API graph ("prompt": node id -> {class_type, inputs}) or UI graph ("workflow")."""
    data = _json(text)
    if (
        isinstance(data, dict)
        and isinstance(data.get("nodes"), list)
        and ("last_node_id" in data or "links" in data)
    ):
        return _GeneratorClue(source, "ComfyUI", True, details={"nodes": len(data["nodes"])})
    if not isinstance(data, dict):
        if '"class_type"' in text or '"last_node_id"' in text:
            return _GeneratorClue(
                source, "ComfyUI", True, details={"note": "graph not readable as JSON"}
            )
        return None
    nodes = [n for n in data.values() if isinstance(n, dict) and "class_type" in n]
    if not nodes:
        return None
    model = prompt = None
    classes: list[str] = []
    for node in nodes:
        raw_inputs = node.get("inputs")
        inputs: dict[str, Any] = raw_inputs if isinstance(raw_inputs, dict) else {}
        class_type = _text(node.get("class_type"), 80) or ""
        classes.append(class_type)
        if model is None:
            model = next(
                (
                    _text(inputs[k], 120)
                    for k in _COMFY_MODEL_INPUTS
                    if isinstance(inputs.get(k), str)
                ),
                None,
            )
        if prompt is None and "TextEncode" in class_type:
            text_input = inputs.get("text") or inputs.get("text_g") or inputs.get("clip_l")
            if isinstance(text_input, str) and text_input.strip():
                prompt = _text(text_input, PROMPT_EVIDENCE_CHARS)
    samplers = [c for c in classes if "Sampler" in c]
    return _GeneratorClue(
        source,
        "ComfyUI",
        True,
        model=model,
        prompt=prompt,
        details={"nodes": len(nodes), "samplers": sorted(set(samplers))[:5]},
    )


def _invokeai_clue(source: str, text: str) -> _GeneratorClue | None:
    data = _json(text)
    model = prompt = None
    if isinstance(data, dict):
        raw_model = data.get("model") or data.get("model_weights")
        if isinstance(raw_model, dict):
            raw_model = raw_model.get("model_name") or raw_model.get("name")
        model = _text(raw_model, 120)
        prompt = _text(data.get("positive_prompt"), PROMPT_EVIDENCE_CHARS)
        image = data.get("image")
        if prompt is None and isinstance(image, dict):
            p = image.get("prompt")
            if isinstance(p, list) and p and isinstance(p[0], dict):
                p = p[0].get("prompt")
            prompt = _text(p, PROMPT_EVIDENCE_CHARS)
    elif not text.strip():
        return None
    else:
        prompt = _text(text.split(" -s ")[0].strip('"'), PROMPT_EVIDENCE_CHARS)
    return _GeneratorClue(source, "InvokeAI", True, model=model, prompt=prompt)


def _novelai_comment_clue(
    source: str, text: str, chunks: dict[str, tuple[str, str]]
) -> _GeneratorClue | None:
    software = chunks.get("software", ("", ""))[1]
    data = _json(text)
    if not isinstance(data, dict):
        return None
    if "novelai" not in software.lower() and not {"uc", "steps", "sampler"} <= set(data):
        return None
    return _GeneratorClue(
        source,
        "NovelAI",
        True,
        model=_text(chunks.get("source", ("", ""))[1], 120),
        prompt=_text(data.get("prompt"), PROMPT_EVIDENCE_CHARS),
        details={"steps": _text(data.get("steps"), 20), "sampler": _text(data.get("sampler"), 40)},
    )


def _tool_name_clue(source: str, text: str) -> _GeneratorClue | None:
    if _looks_like_json(text):
        return None
    for name, pattern, _ in _GENERATORS:
        if re.search(pattern, text, re.IGNORECASE):
            return _GeneratorClue(
                source, name, True, details={"value": _text(text, VALUE_EVIDENCE_CHARS)}
            )
    return None


_MIDJOURNEY_JOB = re.compile(
    r"Job ID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def _free_text_clue(source: str, text: str) -> _GeneratorClue | None:
    """Captions and comments: only settings-shaped text is strong; a bare name mention is weak."""
    if _MIDJOURNEY_JOB.search(text):
        return _GeneratorClue(
            source,
            "Midjourney",
            True,
            prompt=_text(text.split("Job ID:")[0], PROMPT_EVIDENCE_CHARS),
        )
    clue = _embedded_settings_clue(source, text)
    if clue is not None:
        return clue
    for name, pattern, unambiguous in _GENERATORS:
        if unambiguous and re.search(pattern, text, re.IGNORECASE):
            return _GeneratorClue(
                source, name, False, details={"value": _text(text, VALUE_EVIDENCE_CHARS)}
            )
    return None


# -- editing software -------------------------------------------------------------------------


def _editing_finding(
    media: Media, headers: ImageHeaders, exif: dict[str, Any], xmp: _XmpFacts
) -> Finding | None:
    mentions: list[dict[str, str]] = []

    def check(source: str, value: Any) -> None:
        text = _exif_text(value) if source.startswith("exif:") else _text(value)
        if not text or _looks_like_json(text):
            return
        for editor, pattern in _EDITORS:
            if re.search(pattern, text, re.IGNORECASE):
                mentions.append(
                    {
                        "source": source,
                        "editor": editor,
                        "value": _text(text, VALUE_EVIDENCE_CHARS) or "",
                    }
                )
                return

    for tag in ("Software", "ProcessingSoftware"):
        if tag in exif:
            check(f"exif:{tag}", exif[tag])
    for name in ("xmp:CreatorTool", "tiff:Software", "stEvt:softwareAgent"):
        for value in dict.fromkeys(xmp.values(name)):
            check(name, value)
    for key, value in headers.text_chunks.items():
        if str(key).lower() in _PNG_TOOL_KEYS:
            check(f"png:{key}", value)
    if headers.comment:
        check("jpeg:comment", headers.comment)
    for key in _IPTC_TOOL_KEYS:
        if key in headers.iptc:
            check(f"iptc:{key}", headers.iptc[key])

    ps_props = sorted(
        {k.split(":", 1)[1] for k, _ in xmp.properties if k.startswith("photoshop:")}
        & _PHOTOSHOP_XMP_PROPERTIES
    )
    irb = _photoshop_resources(media.raw) if headers.photoshop_irb and media.raw else None
    irb_ps = sorted(set(irb.resources) & set(_PHOTOSHOP_ONLY_RESOURCES)) if irb else []
    if not mentions and not ps_props and not irb_ps:
        return None

    editors = list(dict.fromkeys(m["editor"] for m in mentions))
    if not editors and (ps_props or irb_ps):
        editors = ["Adobe Photoshop"]
    face_apps = [e for e in editors if e in _FACE_RETOUCHING]
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
            evidence["photoshop_only_resources"] = [_PHOTOSHOP_ONLY_RESOURCES[r] for r in irb_ps]
        if irb.writer:
            evidence["photoshop_irb_writer"] = irb.writer
    history = list(dict.fromkeys(xmp.values("stEvt:softwareAgent")))
    if history:
        evidence["xmp_history_agents"] = [_text(h, 120) for h in history[:20]]
    return Finding(
        detector=NAME,
        code="editing_software",
        summary=summary,
        indicates="editing",
        strength="weak",
        evidence=evidence,
    )


@dataclass
class _PhotoshopResources:
    resources: list[int]
    writer: str | None


def _photoshop_resources(raw: bytes) -> _PhotoshopResources | None:
    """Image resource IDs in a JPEG's APP13 "Photoshop 3.0" segments (read before the scan data)."""
    if not raw.startswith(b"\xff\xd8"):
        return None
    resources: list[int] = []
    writer: str | None = None
    pos = 2
    for _ in range(1000):
        if pos + 4 > len(raw) or raw[pos] != 0xFF:
            break
        marker = raw[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:
            break
        (length,) = struct.unpack(">H", raw[pos + 2 : pos + 4])
        data = raw[pos + 4 : pos + 2 + length]
        pos += 2 + length
        if marker != 0xED or not data.startswith(b"Photoshop 3.0\x00"):
            continue
        p = 14
        while p + 12 <= len(data) and data[p : p + 4] in (
            b"8BIM",
            b"MeSa",
            b"PHUT",
            b"AgHg",
            b"DCSR",
        ):
            (rid,) = struct.unpack(">H", data[p + 4 : p + 6])
            name_len = data[p + 6]
            p += 6 + 1 + name_len + ((1 + name_len) % 2)
            if p + 4 > len(data):
                break
            (size,) = struct.unpack(">I", data[p : p + 4])
            block = data[p + 4 : p + 4 + size]
            p += 4 + size + (size % 2)
            resources.append(rid)
            if rid == 0x0421 and len(block) >= 9:
                writer = _irb_unicode(block, 5)
    return _PhotoshopResources(resources, writer)


def _irb_unicode(block: bytes, offset: int) -> str | None:
    if offset + 4 > len(block):
        return None
    (count,) = struct.unpack(">I", block[offset : offset + 4])
    raw = block[offset + 4 : offset + 4 + 2 * min(count, 200)]
    return _text(raw.decode("utf-16-be", errors="replace"), 80)


# -- XMP, ICC, text ---------------------------------------------------------------------------


def _parse_xmp(packet: str | bytes) -> _XmpFacts:
    """Flatten an XMP packet into (prefix:Name, value) pairs; never raises.

    defusedxml refuses entity expansion and external entities, which hostile packets use.
    Where the packet does not parse, a few properties are read with regular expressions.
    """
    text = packet.decode("utf-8", errors="replace") if isinstance(packet, bytes) else str(packet)
    text = text.replace("\x00", "")
    if len(text) <= XMP_MAX_PARSE_CHARS:
        candidates = [text.strip()]
        for pattern in (
            r"<(?:\w+:)?x[ma]pmeta[\s\S]*?</(?:\w+:)?x[ma]pmeta>",
            r"<rdf:RDF[\s\S]*?</rdf:RDF>",
        ):
            match = re.search(pattern, text)
            if match:
                candidates.append(match.group(0))
        for candidate in candidates:
            root = _xml_root(candidate)
            if root is not None:
                facts = _XmpFacts()
                _walk_xmp(root, None, facts.properties, depth=0)
                return facts
    facts = _XmpFacts(note="XMP packet is not well-formed XML; read with patterns only")
    for name, local in (
        ("xmp:CreatorTool", "CreatorTool"),
        ("stEvt:softwareAgent", "softwareAgent"),
        ("regex:DigitalSourceType", "DigitalSourceType"),
    ):
        for match in re.finditer(
            rf'{local}\s*=\s*"([^"]*)"|{local}>([^<]*)<|{local}\s+rdf:resource="([^"]*)"',
            text[: XMP_MAX_PARSE_CHARS * 2],
        ):
            value = next(g for g in match.groups() if g is not None)
            facts.properties.append((name, value))
    return facts


def _xml_root(text: str) -> Any | None:
    try:
        return SafeET.fromstring(text)
    except Exception:  # any parse failure means "not usable XML"
        return None


def _qualified(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{_XMP_PREFIXES.get(uri, uri)}:{local}"
    return tag


def _walk_xmp(element: Any, prop: str | None, out: list[tuple[str, str]], depth: int) -> None:
    if depth > 64 or len(out) > 20_000:
        return
    name = _qualified(str(element.tag))
    is_rdf = name.startswith("rdf:")
    current = prop if is_rdf else name
    for attr, value in element.attrib.items():
        attr_name = _qualified(str(attr))
        if attr_name == "rdf:resource" and current:
            out.append((current, str(value)))
        elif not attr_name.startswith(("rdf:", "xml:")):
            out.append((attr_name, str(value)))
    text = (element.text or "").strip()
    if text and current and len(element) == 0:
        out.append((current, text))
    for child in element:
        _walk_xmp(child, current, out, depth + 1)


def _icc_description(profile: bytes) -> str | None:
    """The 'desc' tag of an ICC profile (ICC.1:2010 sections 7.3 and 10.13 / 10.15)."""
    try:
        if len(profile) < 132:
            return None
        (count,) = struct.unpack(">I", profile[128:132])
        for i in range(min(count, 200)):
            entry = profile[132 + 12 * i : 144 + 12 * i]
            if len(entry) < 12:
                return None
            signature, offset, size = struct.unpack(">4sII", entry)
            if signature != b"desc":
                continue
            data = profile[offset : offset + size]
            if data[:4] == b"desc" and len(data) >= 12:  # ICC v2 textDescriptionType
                (n,) = struct.unpack(">I", data[8:12])
                return _text(data[12 : 12 + n].split(b"\x00")[0].decode("latin-1"), 120)
            if data[:4] == b"mluc" and len(data) >= 16:  # ICC v4 multiLocalizedUnicodeType
                records, record_size = struct.unpack(">II", data[8:16])
                if records < 1 or record_size < 12:
                    return None
                length, start = struct.unpack(">II", data[16 + 4 : 16 + 12])
                return _text(
                    data[start : start + length].decode("utf-16-be", errors="replace"), 120
                )
            return None
    except (struct.error, ValueError):
        return None
    return None


def _exif_text(value: Any) -> str | None:
    """EXIF UserComment starts with an 8-byte character-code header (EXIF 2.32, 4.6.5)."""
    if isinstance(value, bytes):
        head, body = value[:8], value[8:]
        if head.startswith(b"UNICODE"):
            be = body.decode("utf-16-be", errors="replace")
            le = body.decode("utf-16-le", errors="replace")
            return _text(be if _printable_share(be) >= _printable_share(le) else le)
        if head.startswith((b"ASCII", b"JIS", b"\x00\x00\x00\x00\x00\x00\x00\x00")):
            return _text(body)
        if len(value) % 2 == 0 and value[1:2] == b"\x00":  # XPComment: UTF-16LE
            return _text(value.decode("utf-16-le", errors="replace"))
    return _text(value)


def _printable_share(text: str) -> float:
    return sum(ch.isprintable() or ch in "\n\t" for ch in text) / max(1, len(text))


# Control characters, and the invisible and bidirectional formatting characters that can make
# a shown name read differently from what it is (e.g. U+202E right-to-left override).
_UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def _text(value: Any, limit: int | None = None) -> str | None:
    """A value as clean one-line-safe text (control characters removed), or None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    elif isinstance(value, tuple | list):
        value = " ".join(str(v) for v in value)
    text = _UNSAFE_CHARACTERS.sub("", str(value)).strip()
    if not text:
        return None
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _gps_present(exif: dict[str, Any]) -> bool:
    """Whether a position is recorded (the loader nests the GPS IFD under "GPSInfo")."""
    gps = exif.get("GPSInfo")
    fields = gps if isinstance(gps, dict) else exif
    return any(fields.get(key) for key in ("GPSLatitude", "GPSLongitude"))


def _first(values: list[str], limit: int) -> str | None:
    return _text(values[0], limit) if values else None


def _looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith(("{", "[")) or stripped.lower().startswith(
        ("prompt:{", "workflow:{")
    )


def _json(text: str) -> Any:
    if len(text) > JSON_MAX_CHARS:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


# -- video ------------------------------------------------------------------------------------


def _video_findings(media: Media) -> list[Finding]:
    container = media.video_container or VideoContainer(format_name=media.format)
    tags = {str(k).lower(): _text(v, VALUE_EVIDENCE_CHARS) for k, v in container.metadata.items()}
    stream = {
        str(k).lower(): _text(v, VALUE_EVIDENCE_CHARS) for k, v in container.stream_metadata.items()
    }
    encoder = tags.get("encoder") or stream.get("encoder")
    created = tags.get("creation_time") or stream.get("creation_time")
    codec = container.video_codec or None
    summary = (
        f"{container.format_name} video, {media.width}x{media.height}"
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
    tool, kind = _video_tool(
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
            indicates="editing",
            strength="weak",
            evidence=evidence,
        )
    )
    return findings


def _video_tool(text: str) -> tuple[str | None, str]:
    for name, pattern in _VIDEO_EDITORS:
        if re.search(pattern, text, re.IGNORECASE):
            return name, "editor"
    for name, pattern in _VIDEO_REENCODERS:
        if re.search(pattern, text, re.IGNORECASE | re.MULTILINE):
            return name, "re-encoder"
    return None, ""
