"""Recognising AI generators from what they write into a file's headers.

Generator UIs store their settings where their authors chose: AUTOMATIC1111 and its forks a
"parameters" text (PNG chunk or EXIF UserComment), ComfyUI its node graph as JSON, InvokeAI
and NovelAI their own keys; services write their name into Software / CreatorTool, and an
IPTC digital source type into XMP. Each reader here turns one of those into a clue; the
metadata detector weighs the clues and words the finding.

Settings-shaped data and a tool name in a field that names a program are strong clues (UIs
write them by default and people rarely fake them in that direction); a name mentioned in
free text (a caption) is only a weak one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from unmask.media.headers import XmpFacts, clean_text, exif_text, looks_like_json, parse_json
from unmask.media.types import ImageHeaders

PROMPT_EVIDENCE_CHARS = 300
"""A prompt is kept in evidence only this far: enough to quote, not a whole workflow."""
VALUE_EVIDENCE_CHARS = 200

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

# Header fields that name a program (also where editing software names itself).
_EXIF_TOOL_FIELDS = ("Software", "ProcessingSoftware", "Make", "Model", "HostComputer")
_EXIF_TEXT_FIELDS = ("ImageDescription", "UserComment", "XPComment", "Artist", "Copyright")
PNG_TOOL_KEYS = {"software", "source", "generator", "creator tool", "creator", "author"}
IPTC_TOOL_KEYS = ("2:65", "2:70")
"""IPTC-IIM Originating Program and Program Version."""


@dataclass
class GeneratorClue:
    """One sign, in one header field, that a generator made the file."""

    source: str
    """Where it was found, e.g. "png:parameters", "exif:Software", "xmp:DigitalSourceType"."""
    generator: str | None
    strong: bool
    model: str | None = None
    prompt: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def generator_clues(
    headers: ImageHeaders, exif: dict[str, Any], xmp: XmpFacts
) -> list[GeneratorClue]:
    """Every generator clue in the headers: settings, tool names, IPTC digital source type."""
    clues: list[GeneratorClue] = []
    chunks = {str(k): v for k, v in headers.text_chunks.items() if isinstance(v, str | bytes)}
    chunks_lower = {k.lower(): (k, clean_text(v) or "") for k, v in chunks.items()}

    # Generator UIs that store their settings in PNG text chunks.
    for key, (orig, text) in chunks_lower.items():
        clue: GeneratorClue | None = None
        if key == "parameters":
            clue = _a1111_clue(f"png:{orig}", text, fooocus="fooocus_scheme" in chunks_lower)
        elif key in ("prompt", "workflow"):
            clue = _comfyui_clue(f"png:{orig}", text)
        elif key in ("invokeai_metadata", "invokeai_graph", "sd-metadata", "dream"):
            clue = _invokeai_clue(f"png:{orig}", text)
        elif key == "use_stable_diffusion_model":
            clue = GeneratorClue(f"png:{orig}", "Easy Diffusion", True, model=clean_text(text, 120))
        elif key == "comment" and looks_like_json(text):
            clue = _novelai_comment_clue(f"png:{orig}", text, chunks_lower)
        elif key in ("description", "comment"):
            clue = _free_text_clue(f"png:{orig}", text)
        elif key in PNG_TOOL_KEYS:
            clue = _tool_name_clue(f"png:{orig}", text)
        if clue is not None:
            clues.append(clue)

    # EXIF: tool fields by name; A1111 writes its parameters into UserComment of JPEG/WebP;
    # ComfyUI's animated WebP stores "prompt:{...}" / "workflow:{...}" in Model / Make.
    for tag in _EXIF_TOOL_FIELDS + _EXIF_TEXT_FIELDS:
        if tag not in exif:
            continue
        exif_value = exif_text(exif[tag])
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
    for key in IPTC_TOOL_KEYS:
        program = clean_text(headers.iptc.get(key))
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
        iptc_text = clean_text(raw_value)
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
                GeneratorClue(
                    source,
                    None,
                    strong,
                    details={
                        "digital_source_type": canonical,
                        "value": clean_text(value, VALUE_EVIDENCE_CHARS),
                    },
                )
            )
    return clues


def _embedded_settings_clue(source: str, text: str) -> GeneratorClue | None:
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


def _a1111_clue(source: str, text: str, *, fooocus: bool) -> GeneratorClue | None:
    """AUTOMATIC1111 / Forge / SD.Next "parameters": prompt, "Negative prompt:", "Steps: ..."."""
    if looks_like_json(text):
        data = parse_json(text)
        if isinstance(data, dict):
            if "sui_image_params" in data:
                params = data["sui_image_params"]
                params = params if isinstance(params, dict) else {}
                return GeneratorClue(
                    source,
                    "SwarmUI",
                    True,
                    model=clean_text(params.get("model"), 120),
                    prompt=clean_text(params.get("prompt"), PROMPT_EVIDENCE_CHARS),
                )
            if fooocus or any("fooocus" in str(k).lower() for k in data) or "Fooocus" in text:
                return GeneratorClue(
                    source,
                    "Fooocus",
                    True,
                    model=clean_text(data.get("base_model") or data.get("Base Model"), 120),
                    prompt=clean_text(
                        data.get("prompt") or data.get("Prompt"), PROMPT_EVIDENCE_CHARS
                    ),
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
        k.lower().replace(" ", "_"): clean_text(v, 120) for k, v in fields.items() if k != "Model"
    }
    return GeneratorClue(
        source,
        generator,
        True,
        model=clean_text(fields.get("Model"), 120),
        prompt=clean_text(prompt, PROMPT_EVIDENCE_CHARS) if "Steps: " not in prompt[:8] else None,
        details=details,
    )


_COMFY_MODEL_INPUTS = ("ckpt_name", "unet_name", "model_name")


def _comfyui_clue(source: str, text: str) -> GeneratorClue | None:
    """ComfyUI's API graph ("prompt": node id -> {class_type, inputs}) or UI graph ("workflow")."""
    data = parse_json(text)
    if (
        isinstance(data, dict)
        and isinstance(data.get("nodes"), list)
        and ("last_node_id" in data or "links" in data)
    ):
        return GeneratorClue(source, "ComfyUI", True, details={"nodes": len(data["nodes"])})
    if not isinstance(data, dict):
        if '"class_type"' in text or '"last_node_id"' in text:
            return GeneratorClue(
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
        class_type = clean_text(node.get("class_type"), 80) or ""
        classes.append(class_type)
        if model is None:
            model = next(
                (
                    clean_text(inputs[k], 120)
                    for k in _COMFY_MODEL_INPUTS
                    if isinstance(inputs.get(k), str)
                ),
                None,
            )
        if prompt is None and "TextEncode" in class_type:
            text_input = inputs.get("text") or inputs.get("text_g") or inputs.get("clip_l")
            if isinstance(text_input, str) and text_input.strip():
                prompt = clean_text(text_input, PROMPT_EVIDENCE_CHARS)
    samplers = [c for c in classes if "Sampler" in c]
    return GeneratorClue(
        source,
        "ComfyUI",
        True,
        model=model,
        prompt=prompt,
        details={"nodes": len(nodes), "samplers": sorted(set(samplers))[:5]},
    )


def _invokeai_clue(source: str, text: str) -> GeneratorClue | None:
    data = parse_json(text)
    model = prompt = None
    if isinstance(data, dict):
        raw_model = data.get("model") or data.get("model_weights")
        if isinstance(raw_model, dict):
            raw_model = raw_model.get("model_name") or raw_model.get("name")
        model = clean_text(raw_model, 120)
        prompt = clean_text(data.get("positive_prompt"), PROMPT_EVIDENCE_CHARS)
        image = data.get("image")
        if prompt is None and isinstance(image, dict):
            p = image.get("prompt")
            if isinstance(p, list) and p and isinstance(p[0], dict):
                p = p[0].get("prompt")
            prompt = clean_text(p, PROMPT_EVIDENCE_CHARS)
    elif not text.strip():
        return None
    else:
        prompt = clean_text(text.split(" -s ")[0].strip('"'), PROMPT_EVIDENCE_CHARS)
    return GeneratorClue(source, "InvokeAI", True, model=model, prompt=prompt)


def _novelai_comment_clue(
    source: str, text: str, chunks: dict[str, tuple[str, str]]
) -> GeneratorClue | None:
    software = chunks.get("software", ("", ""))[1]
    data = parse_json(text)
    if not isinstance(data, dict):
        return None
    if "novelai" not in software.lower() and not {"uc", "steps", "sampler"} <= set(data):
        return None
    return GeneratorClue(
        source,
        "NovelAI",
        True,
        model=clean_text(chunks.get("source", ("", ""))[1], 120),
        prompt=clean_text(data.get("prompt"), PROMPT_EVIDENCE_CHARS),
        details={
            "steps": clean_text(data.get("steps"), 20),
            "sampler": clean_text(data.get("sampler"), 40),
        },
    )


def _tool_name_clue(source: str, text: str) -> GeneratorClue | None:
    if looks_like_json(text):
        return None
    for name, pattern, _ in _GENERATORS:
        if re.search(pattern, text, re.IGNORECASE):
            return GeneratorClue(
                source, name, True, details={"value": clean_text(text, VALUE_EVIDENCE_CHARS)}
            )
    return None


_MIDJOURNEY_JOB = re.compile(
    r"Job ID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
)


def _free_text_clue(source: str, text: str) -> GeneratorClue | None:
    """Captions and comments: only settings-shaped text is strong; a bare name mention is weak."""
    if _MIDJOURNEY_JOB.search(text):
        return GeneratorClue(
            source,
            "Midjourney",
            True,
            prompt=clean_text(text.split("Job ID:")[0], PROMPT_EVIDENCE_CHARS),
        )
    clue = _embedded_settings_clue(source, text)
    if clue is not None:
        return clue
    for name, pattern, unambiguous in _GENERATORS:
        if unambiguous and re.search(pattern, text, re.IGNORECASE):
            return GeneratorClue(
                source, name, False, details={"value": clean_text(text, VALUE_EVIDENCE_CHARS)}
            )
    return None
