"""Within-frame consistency cues of a face, the face pastes they are measured on, the redraws
the fusion learns from, and the fusion itself, on the bundled example photo."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from media_factory import EXAMPLE
from PIL import Image

from unmask.detectors.face_cues import CUE_NAMES, FaceCueError, face_cues, face_regions
from unmask.detectors.face_fusion import DEVIATION, CueFusion, FusionCardError
from unmask.faces import FaceDetector
from unmask.train.face_paste import paste_face, paste_mask
from unmask.train.fusion import fit_fusion, operating_point
from unmask.train.rerender import training_pair


@pytest.fixture(scope="module")
def photo() -> tuple[np.ndarray, object]:
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    face = max(FaceDetector().detect(rgb), key=lambda f: f.size)
    return rgb, face


def inner_face(rgb: np.ndarray, face) -> np.ndarray:
    return face_regions(rgb.shape[:2], face.landmarks).inner


def test_a_smoothed_inner_face_has_less_noise_and_detail_than_its_own_skin_ring(photo):
    rgb, face = photo
    smooth = rgb.copy()
    inner = inner_face(rgb, face)
    smooth[inner] = cv2.GaussianBlur(rgb, (0, 0), 1.5)[inner]
    before, after = (
        face_cues(rgb, face.box, face.landmarks),
        face_cues(smooth, face.box, face.landmarks),
    )
    noise, detail = CUE_NAMES.index("noise_vs_ring"), CUE_NAMES.index("detail_vs_ring")
    assert after[noise] < before[noise] - 0.5
    assert after[detail] < before[detail] - 0.3
    ring_only = CUE_NAMES.index("noise_vs_surroundings")
    assert after[ring_only] < before[ring_only]


def test_a_recoloured_inner_face_stands_out_from_its_ring(photo):
    rgb, face = photo
    tinted = rgb.astype(np.int16)
    inner = inner_face(rgb, face)
    tinted[inner] += np.array([25, -10, -15], dtype=np.int16)
    tinted = np.clip(tinted, 0, 255).astype(np.uint8)
    colour = CUE_NAMES.index("colour_vs_ring")
    before = face_cues(rgb, face.box, face.landmarks)[colour]
    assert face_cues(tinted, face.box, face.landmarks)[colour] > before + 5


def test_faces_that_cannot_be_measured_get_a_clear_error(photo):
    rgb, face = photo
    with pytest.raises(FaceCueError, match="too small"):
        face_cues(rgb, (10, 10, 20, 20), face.landmarks)
    with pytest.raises(FaceCueError, match="uint8 RGB"):
        face_cues(rgb.astype(np.float32), face.box, face.landmarks)
    with pytest.raises(FaceCueError, match="not finite"):
        face_cues(rgb, face.box, np.full((5, 2), np.nan))


@pytest.mark.parametrize("method", ["seamless_clone", "alpha_blend"])
def test_a_face_paste_changes_the_face_and_leaves_the_rest_of_the_picture(photo, method):
    rgb, face = photo
    donor = np.ascontiguousarray(rgb[:, ::-1])  # the mirrored photo: another face, same size
    donor_marks = face.landmarks.copy()
    donor_marks[:, 0] = rgb.shape[1] - 1 - donor_marks[:, 0]
    donor_marks = donor_marks[[1, 0, 2, 4, 3]]
    pasted = paste_face(rgb, face.landmarks, face.size, donor, donor_marks, method, 60)
    mask = paste_mask(rgb.shape[:2], face.landmarks) > 0
    changed = np.abs(pasted.astype(int) - rgb).sum(-1) > 6
    assert changed[mask].mean() > 0.3
    far = ~cv2.dilate(mask.astype(np.uint8), np.ones((61, 61), np.uint8)).astype(bool)
    assert changed[far].mean() < 0.01


def test_a_training_pair_differs_only_around_the_face(photo):
    rgb, face = photo
    real, fake = training_pair(rgb, face.box, face.landmarks, seed=3)
    assert real.shape == fake.shape == rgb.shape
    x0, y0, x1, y1 = (int(v) for v in face.box)
    assert np.abs(real[y0:y1, x0:x1].astype(int) - fake[y0:y1, x0:x1]).mean() > 1
    # JPEG codes 16 x 16 blocks independently: far from the face both saves are identical.
    assert np.array_equal(real[-96:, :], fake[-96:, :])


def test_the_fusion_learns_which_way_a_cue_points_and_survives_its_card():
    rng = np.random.default_rng(0)
    real = rng.normal(0, 1, (300, len(CUE_NAMES)))
    fake = rng.normal(0, 1, (300, len(CUE_NAMES)))
    fake[:, 0] -= 2.0  # redrawn faces have less noise than their ring
    fake[:, 1] *= 4.0  # pasted faces differ from their surroundings either way
    features = (CUE_NAMES[0], CUE_NAMES[1], f"{DEVIATION}{CUE_NAMES[1]}")
    fusion = fit_fusion(real, fake, features)
    assert fusion.coef[0] < 0 and fusion.coef[2] > 0
    probe = np.zeros((5, len(CUE_NAMES)))
    probe[0, 0], probe[1, 0], probe[2, 1], probe[3, 1] = -2.0, 1.0, 4.0, -4.0
    low_noise, high_noise, far_above, far_below, typical = fusion.probabilities(probe)
    assert low_noise > high_noise
    assert far_above > typical and far_below > typical
    assert far_above > 0.5 and far_below > 0.5
    again = CueFusion.from_dict(fusion.to_dict())
    np.testing.assert_allclose(again.probabilities(probe), fusion.probabilities(probe), atol=1e-4)
    with pytest.raises(FusionCardError, match="one number per feature"):
        CueFusion.from_dict({**fusion.to_dict(), "coef": [1.0]})
    with pytest.raises(FusionCardError, match="other cues"):
        CueFusion.from_dict({**fusion.to_dict(), "cue_names": ["noise"]})


def test_the_threshold_keeps_false_positives_on_held_out_reals_within_the_limits():
    rng = np.random.default_rng(1)
    photos, videos = rng.uniform(0, 1, 400), rng.uniform(0.2, 0.9, 60)
    low, threshold = operating_point(photos, videos, 0.02, 0.05, 0.2)
    assert low <= threshold
    assert (photos >= threshold).mean() <= 0.02
    assert (videos >= threshold).mean() <= 0.05
    assert (photos >= low).mean() >= 0.15  # the band answers "inconclusive" for a real share
