"""Relate changed areas to the faces in both files: "face 0 differs in frames 12-480".

Faces are found in the suspect with the project's face detector and linked into tracks
(`unmask.faces`), or taken from a scan that already found them. A face counts as changed in a
frame when a changed region (`unmask.compare.change`: above the calibrated threshold, not too
small) lies mostly inside its box or holds most of it; a video track counts as altered when
that holds in at least `MIN_FRAMES` sampled frames (one frame alone can be a
frame picked a moment too early on a fast movement). Changed areas away from every face are
"other" regions, followed across frames by overlap. For each altered face the original is
checked for a face at the same place, which tells "replaced" from "added".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from unmask.compare.change import warp
from unmask.compare.result import ChangedRegion
from unmask.faces import FaceDetector, find_faces
from unmask.media import Frame
from unmask.result import FaceTrack

if TYPE_CHECKING:
    from unmask.compare.engine import PairResult
    from unmask.compare.footage import Footage

MIN_FRAMES = 2
"""Sampled frames in which a video region must differ (all of them when fewer aligned)."""
FACE_OVERLAP = 0.3
"""A changed area belongs to a face when this share of it lies inside the face's box."""
ORIGINAL_FACE_CHECKS = 3
"""Frames per altered face in which the original is searched for a face at the same place."""
SAME_FACE_IOU = 0.3
MAX_FACE_FRAMES = 12
"""Changed frames in which faces are looked for (evenly spread); the frames between borrow the
nearest box of the same track. Face detection is most of a comparison's time, and a face moves
little between neighbouring samples of a 32-frame sample."""

_detector: FaceDetector | None = None


def _faces() -> FaceDetector:
    global _detector
    if _detector is None:
        _detector = FaceDetector()
    return _detector


def relate(
    suspect: Footage,
    original: Footage,
    pairs: list[PairResult],
    matrix: np.ndarray,
    tracks: list[FaceTrack] | None,
) -> list[ChangedRegion]:
    """The changed regions of the aligned pairs, faces first, in suspect pixels."""
    if not any(p.change.regions for p in pairs):
        return []
    # Faces are looked for only where something changed (face detection is most of the time).
    frames = [suspect.frames[p.suspect_pos] for p in pairs if p.change.regions]
    boxes = _boxes_by_frame(tracks or [], suspect.scale)
    sampled = {f.index for f in frames}
    seen = set().union(*(set(b) for b in boxes.values())) if boxes else set()
    indices = [f.index for f in suspect.frames]
    sample_step = int(np.median(np.diff(indices))) if len(indices) > 1 else 0
    reach = 0
    if tracks is None or len(sampled & seen) < len(sampled) / 2:
        # No tracks given, or given for other frames (a scan sampled differently): find the
        # faces here, numbered as the given tracks where they overlap them.
        step = max(1, -(-len(frames) // MAX_FACE_FRAMES))
        reach = step * sample_step
        found, _ = find_faces(frames[::step], _faces())
        boxes = _renumber(_boxes_by_frame(found, 1.0), boxes)
    need = min(MIN_FRAMES, len(pairs))
    regions: list[ChangedRegion] = []
    face_boxes_by_frame: dict[int, list[tuple[float, ...]]] = {}
    for track_id, per_frame in _tracks(boxes).items():
        hits = []
        for pair in pairs:
            frame = suspect.frames[pair.suspect_pos]
            box = _box_at(per_frame, frame.index, reach)
            if box is None:
                continue
            face_boxes_by_frame.setdefault(frame.index, []).append(box)
            touching = [r.peak for r in pair.change.regions if _belongs(r.box, box)]
            if touching:
                hits.append((pair, frame, box, max(touching)))
        if len(hits) < need:
            continue
        region = _face_region(track_id, hits, suspect)
        region.face_in_original = _face_in_original(hits, original, matrix)
        regions.append(region)
    for region, checked in _other_regions(pairs, suspect, face_boxes_by_frame, need):
        if _face_in_original(checked, original, matrix, region.box, suspect.scale):
            region.kind, region.face_in_original = "face", True
        regions.append(region)
    regions.sort(key=lambda r: (r.kind != "face", -r.score))
    return regions


def _belongs(region: tuple, face: tuple) -> bool:
    """Is a changed region part of a face: mostly inside its box, or holding most of it (a
    grown region can be larger than the box)?"""
    return _inside_share(region, face) >= FACE_OVERLAP or _inside_share(face, region) >= 0.5


def _box_at(
    per_frame: dict[int, tuple[float, ...]], index: int, reach: int
) -> tuple[float, ...] | None:
    """The track's box in frame `index`, or at the nearest frame within `reach` frames (faces
    are looked for in at most `MAX_FACE_FRAMES` frames)."""
    if index in per_frame:
        return per_frame[index]
    nearest = min(per_frame, key=lambda f: abs(f - index), default=None)
    if nearest is None or abs(nearest - index) > reach:
        return None
    return per_frame[nearest]


def _renumber(
    found: dict[int, dict[int, tuple[float, ...]]], given: dict[int, dict[int, tuple[float, ...]]]
) -> dict[int, dict[int, tuple[float, ...]]]:
    """`found` tracks renamed after the `given` track whose box (at the nearest frame) overlaps
    theirs; the others get numbers after the given ones."""
    out: dict[int, dict[int, tuple[float, ...]]] = {}
    spare = max(given, default=-1) + 1
    for boxes in found.values():
        frame, box = next(iter(boxes.items()))
        match = None
        for track_id, theirs in given.items():
            nearest = min(theirs, key=lambda f: abs(f - frame))
            if track_id not in out and _iou(theirs[nearest], box) >= SAME_FACE_IOU:
                match = track_id
                break
        if match is None:
            match, spare = spare, spare + 1
        out[match] = boxes
    return out


def describe(region: ChangedRegion, video: bool, fps: float | None) -> str:
    """The region in one plain phrase."""
    x0, y0, x1, y1 = (round(v) for v in region.box)
    if region.kind == "face" and region.track_id is None:
        what = f"the original's face at ({x0}, {y0})-({x1}, {y1})"
        consequence = "no face is found there in the suspect (removed, covered or distorted)"
    elif region.kind == "face":
        what = f"face {region.track_id}"
        verb = {
            True: "it was replaced or retouched",
            False: "a face was added where the original has none",
        }
        consequence = verb.get(region.face_in_original, "it was changed")  # type: ignore[arg-type]
    else:
        what = f"the area ({x0}, {y0})-({x1}, {y1})"
        consequence = "something there was changed"
    if video and region.frames and region.time_range_s:
        first, last = region.frames[0], region.frames[-1]
        start, end = region.time_range_s
        return (
            f"{what} differs in frames {first}-{last} ({_clock(start)}-{_clock(end)}): "
            f"{consequence}"
        )
    where = (
        f" at ({x0}, {y0})-({x1}, {y1})"
        if region.kind == "face" and region.track_id is not None
        else ""
    )
    return f"{what}{where} differs: {consequence}"


def _clock(seconds: float) -> str:
    minutes, rest = divmod(max(0.0, seconds), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _boxes_by_frame(
    tracks: list[FaceTrack], scale: float
) -> dict[int, dict[int, tuple[float, ...]]]:
    """{track_id: {frame index: box in working pixels}}."""
    out: dict[int, dict[int, tuple[float, ...]]] = {}
    for track in tracks:
        for d in track.detections:
            out.setdefault(track.track_id, {})[d.frame_index] = tuple(v * scale for v in d.box)
    return out


def _tracks(boxes: dict[int, dict[int, tuple[float, ...]]]) -> dict[int, dict[int, tuple]]:
    return dict(sorted(boxes.items()))


def _face_region(track_id: int, hits: list, suspect: Footage) -> ChangedRegion:
    boxes = np.array([h[2] for h in hits])
    union = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
    frames = [h[1] for h in hits]
    video = suspect.is_video
    return ChangedRegion(
        kind="face",
        box=_to_file(union, suspect.scale),
        score=round(max(h[3] for h in hits), 3),
        track_id=track_id,
        frames=[f.index for f in frames],
        time_range_s=(frames[0].time_s, frames[-1].time_s) if video else None,
    )


def _face_in_original(
    hits: list, original: Footage, matrix: np.ndarray, box: tuple | None = None, scale: float = 1.0
) -> bool | None:
    """Is there a face in the original where the suspect changed? `hits` are (pair, frame,
    box in working pixels, ...) tuples; `box` (suspect pixels), when given, replaces theirs."""
    step = max(1, len(hits) // ORIGINAL_FACE_CHECKS)
    checked = False
    for pair, frame, hit_box, *_ in hits[::step][:ORIGINAL_FACE_CHECKS]:
        where = hit_box if box is None else tuple(v * scale for v in box)
        shown = warp(original.frames[pair.original_pos].rgb, matrix, frame.rgb.shape[:2])
        checked = True
        for face in _faces().detect(shown):
            if _iou(face.box, where) >= SAME_FACE_IOU or _inside_share(face.box, where) >= 0.5:
                return True
    return False if checked else None


def _other_regions(
    pairs: list, suspect: Footage, faces: dict[int, list[tuple[float, ...]]], need: int
) -> list[tuple[ChangedRegion, list]]:
    """Changed areas away from the suspect's faces, linked across frames by overlap, each with
    the (pair, frame, box) it was seen in."""
    groups: list[dict] = []
    for pair in pairs:
        frame: Frame = suspect.frames[pair.suspect_pos]
        for region in pair.change.regions:
            near_face = faces.get(frame.index, [])
            if any(_belongs(region.box, f) for f in near_face):
                continue  # part of that face's change
            for group in groups:
                if (
                    _iou(group["box"], region.box) >= SAME_FACE_IOU
                    and group["seen"][-1][1] != frame
                ):
                    group["box"] = _union(group["box"], region.box)
                    group["seen"].append((pair, frame, region.box))
                    group["peak"] = max(group["peak"], region.peak)
                    break
            else:
                groups.append(
                    {"box": region.box, "seen": [(pair, frame, region.box)], "peak": region.peak}
                )
    out = []
    for group in groups:
        if len(group["seen"]) < need:
            continue
        frames = [f for _, f, _ in group["seen"]]
        region = ChangedRegion(
            kind="other",
            box=_to_file(group["box"], suspect.scale),
            score=round(group["peak"], 3),
            frames=[f.index for f in frames],
            time_range_s=(frames[0].time_s, frames[-1].time_s) if suspect.is_video else None,
        )
        out.append((region, group["seen"]))
    return out


def _to_file(box: tuple, scale: float) -> tuple[float, float, float, float]:
    return tuple(round(float(v) / scale, 1) for v in box)  # type: ignore[return-value]


def _union(a: tuple, b: tuple) -> tuple:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _inside_share(region: tuple, face: tuple) -> float:
    iw = max(0.0, min(region[2], face[2]) - max(region[0], face[0]))
    ih = max(0.0, min(region[3], face[3]) - max(region[1], face[1]))
    area = max(1.0, (region[2] - region[0]) * (region[3] - region[1]))
    return iw * ih / area


def _iou(a: tuple, b: tuple) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
