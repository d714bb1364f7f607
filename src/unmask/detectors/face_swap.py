"""Face swaps and reenactments: a learned classifier scores every face crop.

The network (EfficientNet-Lite0 trained on self-blended images, see `unmask/models/face_swap.md`)
gives each 224 px crop a logit and a 7x7 heatmap of where it sees blending. Calibration and
thresholds come from the model card (`face_swap.json`), never from literals here, so a retrained
or user-supplied model (`UNMASK_FACE_SWAP_MODEL=/path/model.onnx`) brings its own operating point.

Aggregation. Published pipelines score a video as the mean over sampled frames of the maximum
over faces (SBI, Shiohara & Yamasaki 2022, inference script; the DFDC baseline likewise). We keep
faces apart, because a victim's face swapped into a group scene must not be averaged away:

- per track: the mean of its per-frame probabilities (its score), plus the maximum and the
  fraction of frames at or above the threshold, and the whole per-frame timeline;
- per file: the maximum of the track scores over tracks seen in at least
  `MIN_TRACK_DETECTIONS` sampled frames (over all tracks when none is that long, e.g. a photo).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from unmask.config import ScanConfig
from unmask.detectors.base import Detector, ScanContext, register
from unmask.errors import ModelError
from unmask.faces import crop_face
from unmask.faces.confirm import confirms_face
from unmask.media.types import Frame
from unmask.models import DEFAULT_THREADS, ModelCard, load_card, onnx_session
from unmask.result import FaceDetection, FaceTrack, Finding, Strength, box_size
from unmask.verdict import FACE_NOT_CHECKED

MODEL_NAME = "face_swap"
BATCH_SIZE = 32
"""Crops per ONNX Runtime call: bounds memory (32 x 3 x 224 x 224 float32 = 19 MB)."""
MIN_TRACK_DETECTIONS = 3
"""Tracks seen in fewer sampled frames are usually a passer-by or a false face detection; they
get their own finding but do not set the file's score while a longer track exists."""
AGGREGATION = (
    "track score = mean of the per-frame probabilities over the track's sampled frames; "
    f"file score = highest track score among tracks seen in >= {MIN_TRACK_DETECTIONS} frames "
    "(among all tracks when none is)"
)
HEATMAP_ALPHA = 0.45
"""Weight of the colour map in the overlay: enough to read the hot spots, and the face stays
recognisable beneath so the overlay can be checked against the crop."""


@dataclass(frozen=True)
class TrackScore:
    """The model's view of one face track."""

    track_id: int
    probabilities: np.ndarray
    """Calibrated probability per sampled frame, in time order."""

    @property
    def mean(self) -> float:
        return float(np.mean(self.probabilities))

    @property
    def max(self) -> float:
        return float(np.max(self.probabilities))

    def fraction_at_or_above(self, threshold: float) -> float:
        return float(np.mean(self.probabilities >= threshold))


def file_probability(tracks: Sequence[tuple[float, int]]) -> float | None:
    """File-level score from (track score, detections) pairs; None when there is no face."""
    if not tracks:
        return None
    long_enough = [score for score, n in tracks if n >= MIN_TRACK_DETECTIONS]
    return max(long_enough or [score for score, _ in tracks])


def colour_map(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> RGB uint8 on a blue-cyan-green-yellow-red scale (like "jet"),
    absolute rather than stretched, so a pale overlay means the model saw little."""
    anchors = np.array(
        [[0, 0, 130], [0, 90, 255], [0, 220, 220], [90, 230, 60], [255, 220, 0], [220, 20, 0]],
        dtype=np.float64,
    )
    positions = np.linspace(0.0, 1.0, len(anchors))
    v = np.clip(values, 0.0, 1.0)
    rgb = np.stack([np.interp(v, positions, anchors[:, c]) for c in range(3)], axis=-1)
    return rgb.astype(np.uint8)


def heatmap_overlay(crop: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """The crop blended with the colour map of the heatmap upsampled to the crop's size."""
    h, w = crop.shape[:2]
    grid = Image.fromarray(np.asarray(heatmap, dtype=np.float32), mode="F")
    upsampled = np.asarray(grid.resize((w, h), Image.Resampling.BILINEAR))
    blended = (1 - HEATMAP_ALPHA) * crop + HEATMAP_ALPHA * colour_map(upsampled)
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


@register
class FaceSwapDetector(Detector):
    name = "face_swap"
    scope = "face"
    covers = (
        "Face swaps and reenactments in each face, by a learned model; its card "
        "(unmask/models/face_swap.md) gives how it was evaluated."
    )
    card: ModelCard

    def __init__(self, card: ModelCard, margin: float, crop_size: int) -> None:
        self.card = card
        self._session = onnx_session(MODEL_NAME, DEFAULT_THREADS, override=card.path)
        self._check_signature()
        self._margin = margin
        self._crop_size = crop_size
        self.covers = (  # type: ignore[misc]
            f"{card.covers} (model {card.name} {card.version}; threshold {card.threshold:.2f}"
            + (
                f", {card.false_positive_rate:.1%} false positives on held-out unaltered media)"
                if card.false_positive_rate is not None
                else ")"
            )
        )

    @classmethod
    def from_config(cls, config: ScanConfig) -> FaceSwapDetector:
        card = load_card(MODEL_NAME, config.face_swap_model)
        return cls(card, config.face_margin, config.crop_size)

    def _check_signature(self) -> None:
        inputs = {i.name: i.shape for i in self._session.get_inputs()}
        outputs = {o.name for o in self._session.get_outputs()}
        size = self.card.input_size
        shape = inputs.get("image")
        if (
            shape is None
            or list(shape[1:]) != [3, size, size]
            or not {"logit", "heatmap"} <= outputs
        ):
            raise ModelError(
                f"model {self.card.path} does not take `image` (N x 3 x {size} x {size}) and give "
                f"`logit` and `heatmap` (it takes {inputs}, gives {sorted(outputs)})",
                hint="export the network with those names, or fix input_size in its card",
            )

    def analyse(self, context: ScanContext) -> list[Finding]:
        frames = {frame.index: frame for frame in context.media.frames}

        def usable(detection: FaceDetection) -> bool:
            return self.checkable(detection) and (
                not self.card.confirm_faces
                or confirms_face(frames[detection.frame_index].rgb, detection.box)
            )

        checkable = [(t, [d for d in t.detections if usable(d)]) for t in context.tracks]
        findings = [self._not_checked(t) for t, detections in checkable if not detections]
        keys = [(t.track_id, d.frame_index) for t, detections in checkable for d in detections]
        if not keys:
            return findings
        crops = self._crops(context, frames, keys)
        logits, heatmaps = self.predict(crops)
        if self.card.mirror_average:
            mirrored, _ = self.predict(np.ascontiguousarray(crops[:, :, ::-1]))
            logits = (logits + mirrored) / 2.0
        probabilities = np.asarray(self.card.probability(logits), dtype=np.float64)
        row = {key: i for i, key in enumerate(keys)}
        scored = [
            (track, detections, [row[(track.track_id, d.frame_index)] for d in detections])
            for track, detections in checkable
            if detections
        ]
        counted = self._counted([(track, rows) for track, _, rows in scored])
        for track, detections, rows in scored:
            score = TrackScore(track.track_id, probabilities[rows])
            best = rows[int(np.argmax(probabilities[rows]))]
            findings.append(
                self._finding(
                    score,
                    timeline=[
                        {
                            "frame_index": d.frame_index,
                            "time_s": d.time_s,
                            "probability": round(float(probabilities[r]), 4),
                        }
                        for d, r in zip(detections, rows, strict=True)
                    ],
                    best_frame=keys[best][1],
                    heatmap=heatmaps[best],
                    overlay=heatmap_overlay(crops[best], heatmaps[best]),
                    counts=track.track_id in counted,
                    video=context.media.kind == "video",
                    not_checked=len(track.detections) - len(detections),
                )
            )
        return sorted(findings, key=lambda f: f.track_id or 0)

    def checkable(self, detection: FaceDetection) -> bool:
        """Whether a detected face is like those the model was trained and measured on: at
        least the card's `min_face_px` across and found with its `min_face_score`."""
        return (
            box_size(detection.box) >= self.card.min_face_px
            and detection.score >= self.card.min_face_score
        )

    def _not_checked(self, track: FaceTrack) -> Finding:
        """A face no sampled frame shows as the model needs it: said so, with no score, so that
        the verdict never counts it among the faces that showed no signs."""
        card = self.card
        largest = max(box_size(d.box) for d in track.detections)
        surest = max(d.score for d in track.detections)
        at_most = " at most" if len(track.detections) > 1 else ""
        if largest < card.min_face_px:
            why = (
                f"it is{at_most} {largest:.0f} px across, smaller than the "
                f"{card.min_face_px:.0f} px faces the model was measured on"
            )
        elif surest < card.min_face_score:
            why = (
                f"the face detector found it with confidence{at_most} {surest:.2f}, under the "
                f"{card.min_face_score:.2f} of the faces the model was trained on (it may not be "
                "a face)"
            )
        elif card.confirm_faces and any(self.checkable(d) for d in track.detections):
            why = (
                "a second face detector of another kind (OpenCV's Haar cascades) found no face "
                "there"
                + (" in any sampled frame where it was large and clear enough" if at_most else "")
                + ", so it may not be a face; the model judges only faces both detectors find"
            )
        else:
            why = (
                f"no sampled frame shows it both {card.min_face_px:.0f} px across and found with "
                f"confidence {card.min_face_score:.2f}, as the faces the model was measured on"
            )
        return Finding(
            detector=self.name,
            code=FACE_NOT_CHECKED,
            summary=f"Face {track.track_id}: not checked for a swap: {why}.",
            indicates="none",
            strength="info",
            score=None,
            evidence={
                "model": {"name": card.name, "version": card.version},
                "min_face_px": card.min_face_px,
                "min_face_score": card.min_face_score,
                "largest_px": round(largest, 1),
                "highest_detection_score": round(surest, 6),
                "confirm_faces": card.confirm_faces,
            },
            track_id=track.track_id,
        )

    def predict(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw logits (N,) and heatmaps (N, 7, 7) for N x S x S x 3 uint8 RGB crops."""
        logits, heatmaps = [], []
        for start in range(0, len(crops), BATCH_SIZE):
            batch = crops[start : start + BATCH_SIZE].transpose(0, 3, 1, 2).astype(np.float32)
            logit, heatmap = self._session.run(["logit", "heatmap"], {"image": batch})
            logits.append(np.asarray(logit, dtype=np.float64).reshape(len(batch)))
            heatmaps.append(
                np.asarray(heatmap, dtype=np.float64).reshape(len(batch), *heatmap.shape[1:])
            )
        return np.concatenate(logits), np.clip(np.concatenate(heatmaps), 0.0, 1.0)

    def face_probability(self, findings: list[Finding]) -> float | None:
        return file_probability(
            [
                (f.score, int(f.evidence["detections"]))
                for f in findings
                if f.detector == self.name and f.code == "face_manipulation" and f.score is not None
            ]
        )

    def _crops(
        self, context: ScanContext, frames: dict[int, Frame], keys: list[tuple[int, int]]
    ) -> np.ndarray:
        size, margin = self.card.input_size, self.card.crop_margin
        if context.crops and size == self._crop_size and abs(margin - self._margin) < 1e-9:
            return np.stack([context.crops[key] for key in keys])
        # The card asks for another crop than the scan made: cut our own from the frames.
        boxes = {(t.track_id, d.frame_index): d.box for t in context.tracks for d in t.detections}
        return np.stack([crop_face(frames[key[1]].rgb, boxes[key], margin, size) for key in keys])

    @staticmethod
    def _counted(scored: list[tuple[Any, list[int]]]) -> set[int]:
        long_tracks = {t.track_id for t, rows in scored if len(rows) >= MIN_TRACK_DETECTIONS}
        return long_tracks or {t.track_id for t, _ in scored}

    def _finding(
        self,
        score: TrackScore,
        timeline: list[dict[str, Any]],
        best_frame: int,
        heatmap: np.ndarray,
        overlay: np.ndarray,
        counts: bool,
        video: bool,
        not_checked: int = 0,
    ) -> Finding:
        card = self.card
        low, threshold = card.inconclusive_band
        p = score.mean
        strength: Strength
        if p >= threshold:
            strength = "strong"
            what = f"at or above the model's threshold {threshold:.2f}: likely manipulated"
        elif p >= low:
            strength = "weak"
            what = f"in the model's inconclusive range {low:.2f}-{threshold:.2f}"
        else:
            strength = "info"
            what = f"below the model's inconclusive range (from {low:.2f}): no sign of a swap"
        frames = len(score.probabilities)
        over = score.fraction_at_or_above(threshold)
        where = (
            f" (mean of {frames} frames, highest {score.max:.2f}, {over:.0%} of frames at or "
            "above the threshold)"
            if video
            else ""
        )
        summary = f"Face {score.track_id}: face-manipulation probability {p:.2f}{where}, {what}."
        if not counts:
            summary += (
                f" Seen in fewer than {MIN_TRACK_DETECTIONS} frames, so it does not set the "
                "file's score."
            )
        return Finding(
            detector=self.name,
            code="face_manipulation",
            summary=summary,
            indicates="manipulation",
            strength=strength,
            score=round(p, 6),
            evidence={
                "model": {"name": card.name, "version": card.version},
                "threshold": card.threshold,
                "inconclusive_band": list(card.inconclusive_band),
                "temperature": card.temperature,
                "aggregation": AGGREGATION,
                "frames": timeline,
                "detections": frames,
                # sampled frames where the face was too small or unclear for the model, or not
                # confirmed by the second detector: left out of the timeline and the mean
                "frames_not_checked": not_checked,
                "mean": round(p, 6),
                "max": round(score.max, 6),
                "fraction_at_or_above_threshold": round(over, 6),
                "counts_for_file_score": counts,
                "best_frame_index": best_frame,
                "heatmap": np.round(heatmap, 3).tolist(),
            },
            track_id=score.track_id,
            maps={f"heatmap_track{score.track_id}": overlay},
        )
