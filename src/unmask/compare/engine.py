"""The comparison engine: one suspect against one or more candidate originals.

    >>> from unmask.compare import compare_files
    >>> comparison = compare_files("suspect.mp4", ["original.mp4"])
    >>> comparison.outcome, [r.kind for r in comparison.regions]

Stills and videos on either side go through the same steps: decode (`footage`), match frames
in time (`timing`), lay the original onto the suspect (`register`), map what differs
(`change`), and relate the changed areas to faces (`faces`). `unmask compare`,
`unmask verify --originals` and `unmask scan --original` all call this module.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from unmask.compare import faces as face_relation
from unmask.compare.change import (
    COLOUR_THRESHOLD,
    STRUCTURE_THRESHOLD,
    ChangeMap,
    compare_aligned,
    coverage_of,
    warp,
)
from unmask.compare.footage import Footage, load_original, load_suspect
from unmask.compare.register import (
    MIN_INLIERS,
    Features,
    Registration,
    compose,
    features,
    mirror_matrix,
    overlap_mask,
    refine,
    register,
    resize_matrix,
)
from unmask.compare.result import AlignedFrame, Alignment, Comparison
from unmask.compare.timing import PDQ_CANDIDATES, pdq_ranking, pick_by_pixels, thumbnails
from unmask.errors import UnmaskError
from unmask.media import Limits
from unmask.result import FaceTrack

ANCHORS = 3
"""Suspect frames (at 1/4, 1/2 and 3/4 of the sample) registered with SIFT against their best
PDQ candidates to find the one map for the whole video (the most inliers wins): a
re-publisher's crop, resize or mirror is the same for every frame."""
CONFIDENT_INLIERS = 3 * MIN_INLIERS
"""A fit this strong ends the search for a better one (unrelated pictures stay far below
MIN_INLIERS; scripts/calibrate_compare.py)."""
MAX_CHANGED_SHARE = 0.45
"""A frame pair whose overlap differs over more than this share is not the same footage (a
different shot of the same room, say), not an alteration: face swaps in the shared DeepFaceLive
pairs change 2-25 % of the frame (scripts/calibrate_compare.py)."""
SNAP_TOLERANCE = 0.01
"""Largest corner distance (share of the long side) between the fitted map and a plain resize
for the plain resize to be tried instead."""
REFINE_FRAMES = 1
"""Neighbours on each side of a small-copy pick tried again at working size (with the frame
the common offset predicts, which covers larger slips)."""
MIN_TIMELINE_FRAMES = 4
TIMELINE_SHARE = 0.6
"""Share of aligned video frames that must keep the common time offset (within
`TIMELINE_FRAMES` original frames or `TIMELINE_MIN_S`) for two videos to be one footage."""
TIMELINE_FRAMES = 2.5
TIMELINE_MIN_S = 0.1
STILL_FOOTAGE_COST = 1.0
"""Median frame-picking difference (grey levels, 0-255) below which the footage hardly moves
and the timeline is not judged."""
MAX_MISMATCH = 40.0
"""A frame pair whose median normalised luma difference exceeds this (0-255) did not align."""


@dataclass
class PairResult:
    """One suspect frame (position in its footage), its original frame, and their change map."""

    suspect_pos: int
    original_pos: int
    change: ChangeMap


@dataclass
class ComparisonMaps:
    """The decoded frames, the registration and the change maps behind a comparison."""

    suspect: Footage
    original: Footage
    registration: Registration
    pairs: list[PairResult]


def compare_files(
    suspect: str | os.PathLike[str],
    originals: Sequence[str | os.PathLike[str]],
    *,
    limits: Limits | None = None,
    frames: int | None = None,
    tracks: list[FaceTrack] | None = None,
    keep_maps: bool = False,
) -> Comparison:
    """Compare `suspect` with each of `originals` and return the comparison with the one it
    matches (the first that aligns best), or `no_common_source` when none does.

    Raises `UnmaskError` when the suspect or an original cannot be read. `tracks` are face
    tracks already found in the suspect (a scan's), in suspect pixels; else faces are found
    here. `keep_maps` keeps the decoded frames and maps for `unmask.compare.evidence`."""
    started = time.monotonic()
    footage = _named(suspect, lambda: load_suspect(suspect, limits, frames))
    best: Comparison | None = None
    tried: list[str] = []
    for path in originals:
        original = _named(path, lambda p=path: load_original(p, limits))
        tried.append(str(path))
        comparison = compare_footage(footage, original, tracks=tracks, keep_maps=keep_maps)
        if best is None or _better(comparison, best):
            best = comparison
    if best is None:
        raise UnmaskError("no original to compare with", "name at least one original file")
    best.candidates = [best.original or "", *(p for p in tried if p != best.original)]
    best.elapsed_s = round(time.monotonic() - started, 3)
    return best


def _named(path: str | os.PathLike[str], load: Callable[[], Footage]) -> Footage:
    """`load()`, with the file's name put in front of any error's message (two files are in
    play, and the user must know which one could not be read)."""
    try:
        return load()
    except UnmaskError as exc:
        raise type(exc)(f"{path}: {exc.message}", exc.hint) from None


def _better(new: Comparison, old: Comparison) -> bool:
    rank = {"altered": 1, "same_content": 1, "no_common_source": 0}
    if rank[new.outcome] != rank[old.outcome]:
        return rank[new.outcome] > rank[old.outcome]
    new_inliers = new.alignment.inliers if new.alignment else 0
    old_inliers = old.alignment.inliers if old.alignment else 0
    return new_inliers > old_inliers


def compare_footage(
    suspect: Footage,
    original: Footage,
    *,
    tracks: list[FaceTrack] | None = None,
    keep_maps: bool = False,
) -> Comparison:
    """Compare two decoded files (see `compare_files`)."""
    base = Comparison(
        suspect=suspect.path,
        original=original.path,
        outcome="no_common_source",
        summary="",
        suspect_sha256=suspect.sha256,
        original_sha256=original.sha256,
        suspect_kind="video" if suspect.is_video else "image",
        original_kind="video" if original.is_video else "image",
        thresholds={"structure": STRUCTURE_THRESHOLD, "colour": COLOUR_THRESHOLD},
    )
    ranking = pdq_ranking(suspect.frames, original.frames)
    anchors = _anchors(len(suspect.frames))
    cache = _FeatureCache(suspect, original)
    top = np.argsort(ranking, axis=1, kind="stable")[:, :PDQ_CANDIDATES]
    registration = _register(cache, {i: list(top[i]) for i in anchors})
    if registration is not None:
        thumbs = thumbnails(original.frames)
        picked, costs = pick_by_pixels(suspect.frames, thumbs, registration.matrix)
        refined = _register(cache, {i: [int(picked[i])] for i in anchors})
        if refined is not None and refined.inliers > registration.inliers:
            registration = refined
            picked, costs = pick_by_pixels(suspect.frames, thumbs, registration.matrix)
        coarse = picked
        picked = _refine_picks(suspect, original, picked, registration.matrix, only=anchors)
        registration = _pooled(cache, registration, {i: int(picked[i]) for i in anchors})
        registration = _snap(suspect, original, registration, {i: int(picked[i]) for i in anchors})
        picked = _refine_picks(suspect, original, picked, registration.matrix)
    if registration is None:
        base.summary = (
            f"{_name(suspect.path)} and {_name(original.path)} do not show the same photo or "
            "footage (no consistent set of matching points), so this pair cannot say whether "
            "anything was altered."
        )
        base.not_checked.append("Nothing was compared: no alignment was found.")
        return base

    pairs = [
        PairResult(
            i,
            int(picked[i]),
            compare_aligned(frame.rgb, original.frames[int(picked[i])].rgb, registration.matrix),
        )
        for i, frame in enumerate(suspect.frames)
    ]
    aligned = [
        p
        for p in pairs
        if p.change.changed_share <= MAX_CHANGED_SHARE and p.change.mismatch <= MAX_MISMATCH
    ]
    offset = None
    base.alignment = _alignment(suspect, original, registration, pairs, offset)
    base.aligned_frames = [
        AlignedFrame(
            suspect_frame=suspect.frames[p.suspect_pos].index,
            suspect_time_s=suspect.frames[p.suspect_pos].time_s,
            original_frame=original.frames[p.original_pos].index,
            original_time_s=original.frames[p.original_pos].time_s,
            changed_share=p.change.changed_share,
        )
        for p in aligned
    ]
    if aligned and not _one_timeline(suspect, original, aligned, coarse, costs):
        base.summary = (
            f"{_name(suspect.path)} and {_name(original.path)} show the same place, but the "
            "frames that line up do not follow one timeline: they are different recordings "
            "(or moments) of the same scene, not the same footage, so this pair cannot say "
            "whether anything was altered."
        )
        base.aligned_frames = []
        base.not_checked.append("Nothing was compared: the two files are different recordings.")
        return base
    if not aligned:
        base.summary = (
            f"{_name(suspect.path)} and {_name(original.path)} share some matching points, but "
            "no frame lines up with the original: they are not the same photo or footage (for "
            "example a different shot of the same place), so this pair cannot say whether "
            "anything was altered."
        )
        base.not_checked.append("Nothing was compared: no frame pair lined up.")
        return base

    regions = face_relation.relate(suspect, original, aligned, registration.matrix, tracks)
    base.regions = regions
    base.outcome = "altered" if regions else "same_content"
    base.not_checked.extend(_not_checked(suspect, pairs, aligned, base.alignment))
    base.summary = _summary(base, suspect, original, len(aligned))
    if keep_maps:
        base.maps = ComparisonMaps(suspect, original, registration, aligned)
    return base


def _pooled(
    cache: _FeatureCache, registration: Registration, pairs: dict[int, int]
) -> Registration:
    """The map refitted on the anchor frames and their settled counterparts together."""
    features_pairs = []
    for i, j in pairs.items():
        plain, flipped = cache.original_features(j, registration.mirrored)
        source = flipped if registration.mirrored and flipped is not None else plain
        features_pairs.append((cache.suspect_features(i), source))
    return refine(features_pairs, registration.mirrored, registration)


def _snap(
    suspect: Footage, original: Footage, registration: Registration, pairs: dict[int, int]
) -> Registration:
    """The plain resize of the whole original onto the whole suspect (mirrored if so), when it
    is within `SNAP_TOLERANCE` of the fitted map and fits the anchor frames at least as well: a
    re-encoded or resized copy is exactly that, and a fit is never quite exact."""
    s_height, s_width = suspect.frames[0].rgb.shape[:2]
    o_height, o_width = original.frames[0].rgb.shape[:2]
    plain = compose(resize_matrix(s_width / o_width, s_height / o_height))
    if registration.mirrored:
        plain = compose(plain, mirror_matrix(o_width))
    corners = np.array([[0, 0, 1], [o_width, 0, 1], [0, o_height, 1], [o_width, o_height, 1.0]])
    gap = np.abs(corners @ plain.T - corners @ registration.matrix.T).max()
    if gap > SNAP_TOLERANCE * max(s_width, s_height):
        return registration

    def cost(matrix: np.ndarray) -> float:
        # Each anchor against its counterpart or a neighbour (the picks were made with the
        # fitted map, so they may lean towards it).
        last = len(original.frames) - 1
        inside = coverage_of((o_height, o_width), matrix, (s_height, s_width))
        if not inside.any():
            return float("inf")
        return sum(
            min(
                _work_cost(
                    _grey(suspect.frames[i].rgb)[inside], original.frames[k].rgb, matrix, inside
                )
                for k in range(max(0, j - 1), min(last, j + 1) + 1)
            )
            for i, j in pairs.items()
        )

    if cost(plain) <= cost(registration.matrix):
        return Registration(plain, registration.mirrored, registration.inliers, registration.spread)
    return registration


def _refine_picks(
    suspect: Footage,
    original: Footage,
    picked: np.ndarray,
    matrix: np.ndarray,
    only: list[int] | None = None,
) -> np.ndarray:
    """Settle each suspect frame's original frame at working size, among its small-copy pick,
    that pick's neighbours and the frame the common time offset predicts. At 96 px a talking
    head's neighbouring frames differ by less than compression noise (measured: picks one to
    three frames off on a 30 fps interview), and a frame off shows the mouth as changed.
    `only`: settle just these suspect frames."""
    if len(original.frames) < 2 or len(suspect.frames) < 1:
        return picked
    times = np.array([f.time_s for f in original.frames])
    offset = float(np.median(times[picked] - np.array([f.time_s for f in suspect.frames])))
    shape = suspect.frames[0].rgb.shape[:2]
    inside = coverage_of(original.frames[0].rgb.shape[:2], matrix, shape)
    if not inside.any():
        return picked
    out = picked.copy()
    for i in only if only is not None else range(len(suspect.frames)):
        frame = suspect.frames[i]
        predicted = int(np.abs(times - (frame.time_s + offset)).argmin())
        options = {
            predicted,
            *(int(picked[i]) + d for d in range(-REFINE_FRAMES, REFINE_FRAMES + 1)),
        }
        options = {j for j in options if 0 <= j < len(original.frames)}
        if len(options) > 1:
            grey = _grey(frame.rgb)[inside]
            out[i] = min(
                options, key=lambda j: _work_cost(grey, original.frames[j].rgb, matrix, inside)
            )
    return out


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _work_cost(
    suspect_grey: np.ndarray, original: np.ndarray, matrix: np.ndarray, inside: np.ndarray
) -> float:
    """Mean absolute grey difference (less its mean) of an aligned pair at working size, over
    `inside`; `suspect_grey` holds the suspect's grey values there."""
    warped = _grey(warp(original, matrix, inside.shape))[inside]
    difference = suspect_grey - warped
    return float(np.abs(difference - difference.mean()).mean())


def _one_timeline(
    suspect: Footage,
    original: Footage,
    aligned: list[PairResult],
    picks: np.ndarray,
    costs: np.ndarray,
) -> bool:
    """Do the matched frames of two videos keep one time offset (as a trim, a frame-rate change
    or dropped frames do)? Another recording of the same static scene also lines up in space,
    but its best-matching frames jump about in time. Footage that hardly moves matches any
    frame equally well and is not judged."""
    if not (suspect.is_video and original.is_video) or len(aligned) < MIN_TIMELINE_FRAMES:
        return True
    if float(np.median(costs[[p.suspect_pos for p in aligned]])) < STILL_FOOTAGE_COST:
        return True
    # Judged on the free picks, before `_refine_picks` leans them towards the common offset.
    offsets = np.array(
        [
            original.frames[int(picks[p.suspect_pos])].time_s - suspect.frames[p.suspect_pos].time_s
            for p in aligned
        ]
    )
    tolerance = max(TIMELINE_FRAMES / (original.fps or 25.0), TIMELINE_MIN_S)
    return float(np.mean(np.abs(offsets - np.median(offsets)) <= tolerance)) >= TIMELINE_SHARE


def _anchors(count: int) -> list[int]:
    order = [count // 2, count // 4, (3 * count) // 4]
    return list(dict.fromkeys(i for i in order if 0 <= i < count))


class _FeatureCache:
    """SIFT features computed once per frame (the original's also mirrored)."""

    def __init__(self, suspect: Footage, original: Footage) -> None:
        self.suspect, self.original = suspect, original
        self._s: dict[int, Features] = {}
        self._o: dict[int, Features] = {}
        self._m: dict[int, Features] = {}

    def suspect_features(self, i: int) -> Features:
        if i not in self._s:
            self._s[i] = features(self.suspect.frames[i].rgb)
        return self._s[i]

    def original_features(self, j: int, mirrored: bool) -> tuple[Features, Features | None]:
        """The frame's features, and (if `mirrored`) its mirror's."""
        rgb = self.original.frames[j].rgb
        if j not in self._o:
            self._o[j] = features(rgb)
        if mirrored and j not in self._m:
            self._m[j] = features(np.ascontiguousarray(rgb[:, ::-1]))
        return self._o[j], self._m.get(j) if mirrored else None


def _register(cache: _FeatureCache, tries: dict[int, list[int]]) -> Registration | None:
    """The best registration over (suspect anchor frame, candidate original frame) pairs: every
    pair is tried, as a frame a moment away still fits a moving head with many inliers, only
    fewer than the right one. The mirrored original is tried only when the plain one fits
    weakly (SIFT is most of the time here)."""
    best: Registration | None = None
    for mirrored in (False, True):
        if mirrored and best is not None and best.inliers >= CONFIDENT_INLIERS:
            break
        for i, originals in tries.items():
            for j in originals:
                plain, flipped = cache.original_features(int(j), mirrored)
                found = register(cache.suspect_features(i), plain, flipped)
                if found is not None and (best is None or found.inliers > best.inliers):
                    best = found
    return best


def _alignment(
    suspect: Footage,
    original: Footage,
    registration: Registration,
    pairs: list[PairResult],
    offset: float | None,
) -> Alignment:
    full = compose(
        resize_matrix(1 / suspect.scale), registration.matrix, resize_matrix(original.scale)
    )
    coverage = float(
        overlap_mask(
            registration.matrix, original.frames[0].rgb.shape[:2], suspect.frames[0].rgb.shape[:2]
        ).mean()
    )
    if offset is None and suspect.is_video and original.is_video and pairs:
        offset = float(
            np.median(
                [
                    original.frames[p.original_pos].time_s - suspect.frames[p.suspect_pos].time_s
                    for p in pairs
                ]
            )
        )
    return Alignment(
        matrix=[[round(float(v), 6) for v in row] for row in full],
        mirrored=registration.mirrored,
        scale=round(registration.scale * suspect.scale / original.scale, 4)
        if suspect.scale
        else 0.0,
        rotation_deg=round(registration.rotation_deg, 2),
        inliers=registration.inliers,
        overlap=round(coverage, 4),
        time_offset_s=round(offset, 3) if offset is not None else None,
    )


def _not_checked(
    suspect: Footage, pairs: list[PairResult], aligned: list[PairResult], alignment: Alignment
) -> list[str]:
    notes = []
    if suspect.is_video:
        notes.append(
            f"Only {len(pairs)} frames of the suspect were sampled; a change confined to other "
            "frames is not seen."
        )
    if len(aligned) < len(pairs):
        notes.append(
            f"{len(pairs) - len(aligned)} of {len(pairs)} sampled frames did not line up with "
            "the original (content the original does not have, or a different shot) and were "
            "not compared."
        )
    if alignment.overlap < 0.97:
        notes.append(
            f"{(1 - alignment.overlap) * 100:.0f} % of the suspect's area lies outside the "
            "original (borders, added margins) and was not compared."
        )
    notes.append(
        "Differences within what re-encoding, resizing and colour changes produce (the "
        "calibrated thresholds), and changes smaller than about 0.2 % of the picture, are not "
        "reported."
    )
    return notes


def _summary(comparison: Comparison, suspect: Footage, original: Footage, aligned: int) -> str:
    name = _name(original.path)
    scene = "scene" if suspect.is_video or original.is_video else "picture"
    how = []
    if comparison.alignment and comparison.alignment.mirrored:
        how.append("mirrored")
    if comparison.alignment and abs(comparison.alignment.scale - 1) > 0.02:
        how.append(f"scaled {comparison.alignment.scale:.2f}x")
    manner = f" ({', '.join(how)})" if how else ""
    if comparison.outcome == "same_content":
        frames = f" in all {aligned} aligned frames" if suspect.is_video else ""
        return (
            f"The {scene} matches {name}{manner}; no region differs{frames} beyond what "
            "re-encoding, resizing or colour changes explain at the calibrated thresholds."
        )
    parts = []
    for region in comparison.regions[:3]:
        parts.append(face_relation.describe(region, suspect.is_video, suspect.fps))
    return f"The {scene} matches {name}{manner}; " + "; ".join(parts) + "."


def _name(path: str) -> str:
    return os.path.basename(path) or path
