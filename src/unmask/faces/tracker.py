"""Follow each face across the sampled frames of a video, so that it gets one verdict.

Linking is greedy, frame by frame: a face continues the track whose last box overlaps it
most (IoU); failing that, the nearest track whose last box is about the same size and whose
centre is within about one face size (fast motion, or frames sampled far apart, leave no
overlap). A track survives a few sampled frames without a detection (a turned head, a blink
of the detector) before it is closed.

Greedy matching is what the sparse sampling needs: with a handful of faces per frame an
optimal assignment (Hungarian) changes nothing in practice and costs a dependency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from unmask.faces.detector import DetectedFace
from unmask.media.types import Frame
from unmask.result import FaceDetection, FaceTrack

MIN_IOU = 0.3
"""Least overlap that links a face to a track by IoU alone (a common tracking-by-detection
value; faces in consecutive sampled frames of a talking head overlap by 0.6-0.9)."""
MAX_CENTRE_DISTANCE = 1.0
"""Fallback link: largest centre distance per sampled frame elapsed, in face sizes (geometric
mean of width and height, averaged over the two boxes). After a gap a face may have moved
further: the allowance grows with the number of sampled frames since the track's last face."""
MAX_SIZE_RATIO = 1.6
"""Fallback link: the two faces' sizes may differ by at most this factor."""
MAX_GAP = 3
"""Sampled frames a track may miss before it is closed."""


@dataclass
class _Track:
    faces: list[tuple[int, Frame, DetectedFace]] = field(default_factory=list)
    """(position in the sampled sequence, frame, face)."""

    @property
    def last(self) -> DetectedFace:
        return self.faces[-1][2]

    @property
    def last_position(self) -> int:
        return self.faces[-1][0]


def track_faces(
    detections_per_frame: list[tuple[Frame, list[DetectedFace]]],
    *,
    min_iou: float = MIN_IOU,
    max_centre_distance: float = MAX_CENTRE_DISTANCE,
    max_gap: int = MAX_GAP,
) -> list[FaceTrack]:
    """Link the faces of successive sampled frames into `FaceTrack`s.

    `detections_per_frame` holds the sampled frames in time order, each with the faces found
    in it (an empty list where none was). Track ids run 0..n-1 by first appearance, then by
    face size (largest first). For a single image every face is its own track.
    """
    linked = link_faces(
        detections_per_frame,
        min_iou=min_iou,
        max_centre_distance=max_centre_distance,
        max_gap=max_gap,
    )
    return to_face_tracks(linked)


def to_face_tracks(linked: list[list[tuple[Frame, DetectedFace]]]) -> list[FaceTrack]:
    """`FaceTrack`s (ids = list positions) from the output of `link_faces`."""
    return [
        FaceTrack(track_id=track_id, detections=[_detection(frame, face) for frame, face in faces])
        for track_id, faces in enumerate(linked)
    ]


def link_faces(
    detections_per_frame: list[tuple[Frame, list[DetectedFace]]],
    *,
    min_iou: float = MIN_IOU,
    max_centre_distance: float = MAX_CENTRE_DISTANCE,
    max_gap: int = MAX_GAP,
) -> list[list[tuple[Frame, DetectedFace]]]:
    """The tracks of `track_faces`, in id order, as lists of (frame, detected face)."""
    open_tracks: list[_Track] = []
    closed: list[_Track] = []
    for position, (frame, faces) in enumerate(detections_per_frame):
        still_open: list[_Track] = []
        for track in open_tracks:
            (still_open if position - track.last_position <= max_gap + 1 else closed).append(track)
        open_tracks = still_open

        pairs = _match(
            [t.last for t in open_tracks],
            [max_centre_distance * (position - t.last_position) for t in open_tracks],
            faces,
            min_iou,
            MAX_SIZE_RATIO,
        )
        matched = set()
        for t, f in pairs:
            open_tracks[t].faces.append((position, frame, faces[f]))
            matched.add(f)
        for f, face in enumerate(faces):
            if f not in matched:
                open_tracks.append(_Track(faces=[(position, frame, face)]))
    tracks = closed + open_tracks
    tracks.sort(key=lambda t: (t.faces[0][0], -t.faces[0][2].size, t.faces[0][2].box[0]))
    return [[(frame, face) for _, frame, face in t.faces] for t in tracks]


def _match(
    previous: list[DetectedFace],
    max_distances: list[float],
    current: list[DetectedFace],
    min_iou: float,
    max_size_ratio: float,
) -> list[tuple[int, int]]:
    """Greedy (track, face) pairs: by IoU first, then by relative centre distance."""
    by_iou = []
    by_distance = []
    for t, old in enumerate(previous):
        for f, new in enumerate(current):
            overlap = _iou(old.box, new.box)
            if overlap >= min_iou:
                by_iou.append((-overlap, t, f))
                continue
            sizes = (old.size, new.size)
            if min(sizes) <= 0 or max(sizes) / min(sizes) > max_size_ratio:
                continue
            (ox, oy), (nx, ny) = old.centre, new.centre
            distance = ((ox - nx) ** 2 + (oy - ny) ** 2) ** 0.5 / (sum(sizes) / 2)
            if distance <= max_distances[t]:
                by_distance.append((distance, t, f))

    pairs: list[tuple[int, int]] = []
    used_t: set[int] = set()
    used_f: set[int] = set()
    for candidates in (sorted(by_iou), sorted(by_distance)):
        for _, t, f in candidates:
            if t not in used_t and f not in used_f:
                pairs.append((t, f))
                used_t.add(t)
                used_f.add(f)
    return pairs


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _detection(frame: Frame, face: DetectedFace) -> FaceDetection:
    return FaceDetection(
        frame_index=frame.index,
        time_s=frame.time_s,
        box=(float(face.box[0]), float(face.box[1]), float(face.box[2]), float(face.box[3])),
        score=float(face.score),
        landmarks=[(float(x), float(y)) for x, y in face.landmarks],
    )
