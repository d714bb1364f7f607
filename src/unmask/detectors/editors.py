"""Recognising editing software: photo editors, face-retouching apps, video editors, encoders.

Editing software is common (phone galleries, Lightroom, a crop in Photoshop) and re-encoding
touches nearly every shared video, so the metadata detector reports what is named here only as
a weak hint of editing, never as a sign that a face was changed.
"""

from __future__ import annotations

import re

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
FACE_RETOUCHING_APPS = {
    "FaceApp",
    "Facetune",
    "Meitu",
    "BeautyPlus",
    "AirBrush",
    "YouCam",
    "Reface",
}
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

# Adobe Photoshop File Formats Specification, "Image Resource IDs": resources only Photoshop
# writes. An APP13 block holding just IPTC (0x0404) and its digest (0x0425) is what captioning
# tools (Photo Mechanic, agency workflows) write, and says nothing about editing.
PHOTOSHOP_ONLY_RESOURCES = {
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
PHOTOSHOP_XMP_PROPERTIES = {
    "ColorMode",
    "ICCProfile",
    "History",
    "DocumentAncestors",
    "TextLayers",
}


def editor_named(text: str) -> str | None:
    """The first photo editor or retouching app that the text names, if any."""
    for editor, pattern in _EDITORS:
        if re.search(pattern, text, re.IGNORECASE):
            return editor
    return None


def video_tool(text: str) -> tuple[str | None, str]:
    """The video editor or re-encoder named in container tags, and which of the two it is."""
    for name, pattern in _VIDEO_EDITORS:
        if re.search(pattern, text, re.IGNORECASE):
            return name, "editor"
    for name, pattern in _VIDEO_REENCODERS:
        if re.search(pattern, text, re.IGNORECASE | re.MULTILINE):
            return name, "re-encoder"
    return None, ""
