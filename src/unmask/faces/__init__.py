"""Faces: find them (MTCNN on ONNX Runtime), follow them across frames, crop them.

    >>> from unmask.faces import FaceDetector, find_faces, crop_face
    >>> detector = FaceDetector()
    >>> tracks, faces = find_faces(media.frames, detector)
    >>> for track in tracks:
    ...     for det in track.detections:
    ...         crop = crop_face(frame_by_index[det.frame_index].rgb, det.box)

`find_faces` is what the scan pipeline calls; the pieces are public for tools and tests.
"""

from __future__ import annotations

from collections.abc import Callable

from unmask.faces.crop import CROP_MARGIN, CROP_SIZE, crop_face
from unmask.faces.detector import DetectedFace, FaceDetector
from unmask.faces.tracker import link_faces, to_face_tracks, track_faces
from unmask.media.types import Frame
from unmask.result import FaceTrack

__all__ = [
    "CROP_MARGIN",
    "CROP_SIZE",
    "DetectedFace",
    "FaceDetector",
    "crop_face",
    "find_faces",
    "track_faces",
]


def find_faces(
    frames: list[Frame],
    detector: FaceDetector,
    before_frame: Callable[[], None] | None = None,
) -> tuple[list[FaceTrack], dict[tuple[int, int], DetectedFace]]:
    """Detect faces in every frame and link them into tracks.

    `frames` are the sampled frames in time order (one for an image). Returns the tracks
    (ids 0..n-1, by first appearance then size) and, for each (track_id, frame.index), the
    `DetectedFace` behind that track's detection in that frame: its landmarks as an array,
    ready for `crop_face` or alignment. `before_frame` is called before each frame (the scan
    uses it to stop at its time budget).
    """
    per_frame = []
    for frame in frames:
        if before_frame is not None:
            before_frame()
        per_frame.append((frame, detector.detect(frame.rgb)))
    linked = link_faces(per_frame)
    tracks = to_face_tracks(linked)
    faces = {
        (track_id, frame.index): face
        for track_id, members in enumerate(linked)
        for frame, face in members
    }
    return tracks, faces
