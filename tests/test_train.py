"""Self-blended training data and one real training step, on real faces from the shared data."""

from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from media_factory import EXAMPLE
from PIL import Image, ImageDraw

from unmask.errors import UnmaskError
from unmask.faces import FaceDetector
from unmask.train.data import CACHE_SIDE, cut_out, dense_points, load_cache, split_data
from unmask.train.sbi import _hull, degrade, face_mask, h264_roundtrip, self_blend


@pytest.fixture(scope="module")
def sample():
    rgb = np.asarray(Image.open(EXAMPLE).convert("RGB"))
    face = max(FaceDetector().detect(rgb), key=lambda f: f.score)
    return cut_out(rgb, face.box, np.asarray(face.landmarks))


@pytest.fixture(scope="module")
def landmark_model():
    pytest.importorskip("ai_edge_litert", reason="dense landmarks need the unmask[train] extra")
    from unmask.train.landmarks import LandmarkModel

    return LandmarkModel()


@pytest.fixture(scope="module")
def dense_sample(sample, landmark_model):
    return dataclasses.replace(sample, dense=dense_points([sample], landmark_model)[0])


def _inside(polygon: np.ndarray, point: np.ndarray) -> bool:
    canvas = Image.new("L", (CACHE_SIDE, CACHE_SIDE), 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in polygon], fill=1)
    return bool(np.asarray(canvas)[int(point[1]), int(point[0])])


def test_dense_landmarks_outline_the_face_around_the_five_points(dense_sample):
    from unmask.train.landmarks import FACE_OVAL

    dense, marks = dense_sample.dense, dense_sample.landmarks
    assert dense.shape == (468, 2) and not np.isnan(dense).any()
    oval = dense[list(FACE_OVAL)]
    assert all(_inside(oval, point) for point in marks)  # eyes, nose, mouth inside the outline
    top, chin = dense[10], dense[152]  # forehead top and chin of the mesh
    assert top[1] < marks[:2, 1].min() and chin[1] > marks[3:, 1].max()
    x0, _, x1, _ = dense_sample.box
    width = oval[:, 0].max() - oval[:, 0].min()
    assert 0.7 * (x1 - x0) < width < 1.4 * (x1 - x0)


def test_dense_landmarks_find_no_face_in_a_blank_or_noisy_picture(landmark_model):
    grey = np.full((300, 300, 3), 128, np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    assert landmark_model(grey, (100, 100, 200, 200)) is None
    assert landmark_model(noise, (100, 100, 200, 200)) is None


def test_dense_masks_follow_the_face_outline(dense_sample, sample):
    hull = _hull(dense_sample.dense)
    centre = dense_sample.dense.mean(0)
    grown = centre + (hull - centre) * 1.3
    canvas = Image.new("L", (CACHE_SIDE, CACHE_SIDE), 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in grown], fill=1)
    near_face = np.asarray(canvas, dtype=bool)
    for seed in range(20):
        mask = face_mask(dense_sample, np.random.default_rng(seed))
        assert mask[near_face].sum() > 0.97 * mask.sum(), seed
        cx, cy = (int(v) for v in dense_sample.landmarks[2])
        assert mask[cy, cx] > 0.5, seed
    # The dense outline, not the five-point shapes, drew them.
    same_seed = [
        np.array_equal(face_mask(dense_sample, np.random.default_rng(s)),
                       face_mask(sample, np.random.default_rng(s)))
        for s in range(5)
    ]  # fmt: skip
    assert not any(same_seed)


def test_a_cache_without_dense_landmarks_is_refused_with_advice(sample, tmp_path: Path):
    old = tmp_path / "train.npz"
    np.savez(
        old,
        images=sample.rgb[None],
        boxes=np.asarray([sample.box], np.float32),
        landmarks=sample.landmarks[None],
        sources=np.asarray(["a.jpg"]),
    )
    with pytest.raises(UnmaskError, match="dense landmarks") as caught:
        load_cache(old)
    assert "delete the cache" in caught.value.hint


def test_cut_out_keeps_the_face_centred_with_room_around_it(sample):
    assert sample.rgb.shape == (CACHE_SIDE, CACHE_SIDE, 3)
    x0, y0, x1, y1 = sample.box
    assert abs((x0 + x1) / 2 - CACHE_SIDE / 2) < 2 and abs((y0 + y1) / 2 - CACHE_SIDE / 2) < 2
    assert (x1 - x0) == pytest.approx(CACHE_SIDE / 2, rel=0.35)
    inside = (sample.landmarks[:, 0] > x0) & (sample.landmarks[:, 0] < x1)
    assert inside.all()


def test_face_mask_covers_the_face_and_little_else(sample):
    for seed in range(20):
        mask = face_mask(sample, np.random.default_rng(seed))
        assert mask.dtype == np.float32 and mask.min() >= 0 and mask.max() <= 1.0
        x0, y0, x1, y1 = (int(v) for v in sample.box)
        inside = mask[y0:y1, x0:x1].sum()
        assert inside > 0.8 * mask.sum(), seed  # the blend region is the face
        cx, cy = [int(v) for v in sample.landmarks[2]]  # the nose is always blended
        assert mask[cy, cx] > 0.5, seed


def test_self_blend_changes_the_picture_only_under_the_mask(sample):
    blend = self_blend(sample, np.random.default_rng(3))
    difference = np.abs(blend.image.astype(int) - sample.rgb.astype(int)).sum(-1)
    assert difference[blend.mask > 0.5].mean() > 4  # the face changed
    assert difference[blend.mask == 0].max() <= 1  # outside the mask nothing did


def test_self_blends_differ_with_the_seed_and_repeat_with_it(sample):
    a = self_blend(sample, np.random.default_rng(1)).image
    b = self_blend(sample, np.random.default_rng(1)).image
    c = self_blend(sample, np.random.default_rng(2)).image
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_degrade_keeps_size_and_compresses(sample):
    out = degrade(sample.rgb, np.random.default_rng(0))
    assert out.shape == sample.rgb.shape and out.dtype == np.uint8


def test_h264_roundtrip_loses_more_detail_at_a_higher_rate_factor(sample):
    rgb = sample.rgb[:223, :223]  # odd sizes are encoded on their even part
    errors = []
    for crf in (18, 30, 42):
        out = h264_roundtrip(rgb, crf)
        assert out.shape == rgb.shape and out.dtype == np.uint8
        errors.append(np.abs(out.astype(int) - rgb.astype(int)).mean())
    assert 0 < errors[0] < errors[1] < errors[2]


def test_split_keeps_evaluation_people_out_of_training(shared_data: Path):
    split = split_data(shared_data)
    assert not set(split.train) & set(split.held_out)
    assert 0.1 < len(split.held_out) / (len(split.train) + len(split.held_out)) < 0.2
    assert not any(v.name.startswith("DeepFaceLive") for v in split.training_videos)
    assert len(split.training_videos) <= len(split.training_videos + split.evaluation_videos) / 2
    assert not set(split.training_videos) & set(split.evaluation_videos)
    assert split_data(shared_data) == split  # fixed, not random


def test_one_training_step_lowers_the_loss_on_its_batch(sample, tmp_path: Path):
    torch = pytest.importorskip("torch", reason="training needs the unmask[train] extra")
    from unmask.train.model import FaceSwapNet, export_onnx
    from unmask.train.trainer import TrainConfig, batch

    torch.manual_seed(0)
    net = FaceSwapNet(pretrained=True)
    pixels, labels, masks = batch([sample] * 4, np.arange(4), np.random.default_rng(0))
    assert pixels.shape == (8, 3, 224, 224) and labels.tolist() == [0, 1] * 4
    pixels = pixels.float()
    optimiser = torch.optim.AdamW(net.parameters(), lr=TrainConfig().learning_rate * 5)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    losses = []
    for _ in range(3):
        logit, mask_logits = net(pixels)
        loss = loss_fn(logit, labels) + 0.5 * loss_fn(mask_logits, masks)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0]
    # The exported network runs on ONNX Runtime and agrees with PyTorch.
    import onnxruntime

    net.eval()
    export_onnx(net, tmp_path / "face_swap.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "face_swap.onnx"))
    logit_onnx, heatmap = session.run(None, {"image": pixels[:2].numpy()})
    with torch.no_grad():
        logit_torch = net(pixels[:2])[0].numpy()
    assert np.allclose(logit_onnx, logit_torch, atol=1e-3)
    assert heatmap.shape == (2, 7, 7) and heatmap.min() >= 0 and heatmap.max() <= 1


def test_training_batches_are_the_same_with_or_without_worker_processes(sample):
    torch = pytest.importorskip("torch", reason="training needs the unmask[train] extra")
    from unmask.train.trainer import SelfBlendBatches, TrainConfig

    config = TrainConfig(steps=3, batch_pairs=2, seed=7)
    faces = [sample, dataclasses.replace(sample, rgb=sample.rgb[:, ::-1].copy())]
    runs = []
    for workers in (0, 1):
        loader = torch.utils.data.DataLoader(
            SelfBlendBatches(faces, config), batch_size=None, num_workers=workers
        )
        runs.append(list(loader))
    assert len(runs[0]) == 3
    for made_here, made_by_worker in zip(*runs, strict=True):  # pixels, labels, masks
        assert all(torch.equal(a, b) for a, b in zip(made_here, made_by_worker, strict=True))
    assert not torch.equal(runs[0][0][0], runs[0][1][0])  # each step makes new blends


def test_train_runs_with_a_worker_process_and_returns_a_cpu_network(sample):
    torch = pytest.importorskip("torch", reason="training needs the unmask[train] extra")
    from unmask.train.trainer import TrainConfig, train

    losses = []
    net = train(
        [sample, sample],
        TrainConfig(steps=2, batch_pairs=1, workers=1, threads=1),
        progress=lambda step, loss: losses.append((step, loss)),
    )
    assert [step for step, _ in losses] == [0, 1] and all(np.isfinite(v) for _, v in losses)
    assert not net.training
    assert {p.device.type for p in net.parameters()} == {"cpu"}
    assert torch.isfinite(net(torch.zeros(1, 3, 224, 224))[0]).all()


@pytest.mark.parametrize("missing", ["torch", "ai_edge_litert"])
def test_train_without_the_train_extra_says_what_to_install(missing, monkeypatch, tmp_path):
    from click.testing import CliRunner

    from unmask.cli import app

    monkeypatch.setitem(sys.modules, missing, None)  # makes `import <missing>` fail
    result = CliRunner().invoke(app, ["train", "--out", str(tmp_path), "--steps", "1"])
    assert result.exit_code == 1 and not isinstance(result.exception, ImportError)
    assert missing in result.output and "train-env" in result.output
    assert not (tmp_path / "cache").exists()  # refused before any work


class _Stop(Exception):
    pass


def test_a_stopped_run_goes_on_from_its_checkpoint_to_the_same_network(sample, tmp_path: Path):
    torch = pytest.importorskip("torch", reason="training needs the unmask[train] extra")
    from unmask.train.trainer import TrainConfig, train

    faces = [sample, dataclasses.replace(sample, rgb=sample.rgb[:, ::-1].copy())]
    config = TrainConfig(steps=4, batch_pairs=1, workers=0, threads=1, checkpoint_every=2)
    whole = train(faces, config)

    checkpoint = tmp_path / "checkpoint.pt"

    def stop_after_the_checkpoint(step: int, loss: float) -> None:
        if step == 2:  # step 3 of 4 is done; the checkpoint holds the state after step 2
            raise _Stop

    with pytest.raises(_Stop):
        train(faces, config, stop_after_the_checkpoint, checkpoint=checkpoint)
    assert checkpoint.exists() and not checkpoint.with_name("checkpoint.pt.partial").exists()
    steps_run = []
    resumed = train(faces, config, lambda step, loss: steps_run.append(step), checkpoint=checkpoint)
    assert steps_run == [2, 3]  # only the steps after the checkpoint
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.allclose(a.float(), b.float(), atol=1e-6)
    fresh = train(faces, dataclasses.replace(config, steps=2))  # a different network
    assert not all(
        torch.allclose(a.float(), b.float(), atol=1e-6)
        for a, b in zip(whole.state_dict().values(), fresh.state_dict().values(), strict=True)
    )


def test_a_checkpoint_of_other_settings_or_a_broken_one_is_refused(sample, tmp_path: Path):
    pytest.importorskip("torch", reason="training needs the unmask[train] extra")
    from unmask.train.trainer import CheckpointMismatch, TrainConfig, train

    config = TrainConfig(steps=3, batch_pairs=1, workers=0, threads=1, checkpoint_every=1)
    checkpoint = tmp_path / "checkpoint.pt"

    def stop(step: int, loss: float) -> None:
        raise _Stop

    with pytest.raises(_Stop):
        train([sample], config, stop, checkpoint=checkpoint)
    with pytest.raises(CheckpointMismatch, match=re.escape("seed 20221 (now 5)")):
        train([sample], dataclasses.replace(config, seed=5), checkpoint=checkpoint)
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])  # truncated, as by a full disk
    with pytest.raises(CheckpointMismatch, match="cannot be read"):
        train([sample], config, checkpoint=checkpoint)


def test_a_checkpoint_goes_on_on_another_device_with_its_random_state_on_the_cpu(
    sample, tmp_path: Path
):
    torch = pytest.importorskip("torch", reason="training needs the unmask[train] extra")
    from unmask.train.trainer import TrainConfig, load_checkpoint, train

    config = TrainConfig(steps=3, batch_pairs=1, workers=0, threads=1, checkpoint_every=1)
    checkpoint = tmp_path / "checkpoint.pt"

    def stop(step: int, loss: float) -> None:
        raise _Stop

    with pytest.raises(_Stop):
        train([sample], config, stop, checkpoint=checkpoint)
    # --device may change on resume (a run stopped on a GPU machine goes on elsewhere, or the
    # reverse): the checkpoint opens whatever device the run now asks for, even one this
    # computer lacks, and `torch.set_rng_state` accepts only a CPU tensor.
    state = load_checkpoint(checkpoint, dataclasses.replace(config, device="cuda"))
    assert state["step"] == 1
    assert state["random_state"].device == torch.device("cpu")
    torch.set_rng_state(state["random_state"])


def test_train_refuses_a_data_folder_without_faces_and_a_broken_checkpoint_before_any_work(
    tmp_path: Path,
):
    pytest.importorskip("torch", reason="training needs the unmask[train] extra")
    pytest.importorskip("ai_edge_litert", reason="training needs the unmask[train] extra")
    from click.testing import CliRunner

    from unmask.cli import app

    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    args = ["train", "--data", str(data), "--out", str(out), "--steps", "1", "--device", "cpu"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)  # usage error
    assert "has no faces/real or labels.csv" in " ".join(result.output.split())
    (data / "faces" / "real").mkdir(parents=True)
    (data / "labels.csv").write_text("path,label,media\n")
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    result = CliRunner().invoke(app, args)
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "cannot be read as a checkpoint: it is damaged" in said
    assert "weights_only" not in said and "Delete it" in said  # no unsafe or useless advice
    assert not (out / "cache").exists()  # refused before faces were looked for (minutes)


def test_a_resumed_run_logs_each_step_once(tmp_path: Path):
    from unmask.train.cli import _loss_log

    log_file = tmp_path / "loss.tsv"
    log_file.write_text("".join(f"{step}\t0.5\n" for step in range(7)))  # stopped after step 6
    with _loss_log(log_file, 4) as log:  # the checkpoint holds 4 steps: 4, 5, 6 run again
        log.writelines(f"{step}\t0.4\n" for step in range(4, 8))
    steps = [int(line.split("\t")[0]) for line in log_file.read_text().splitlines()]
    assert steps == list(range(8))
    with _loss_log(log_file, 0) as log:  # a fresh run starts a fresh log
        pass
    assert log_file.read_text() == ""


def test_a_donor_paste_brings_the_other_face_in_only_under_the_mask(sample):
    from unmask.train.donor_paste import align, donor_paste

    # The donor: the same face mirrored and tinted, so its pixels differ everywhere.
    tinted = np.clip(sample.rgb[:, ::-1].astype(int) * [0.6, 0.9, 1.3], 0, 255).astype(np.uint8)
    width = sample.rgb.shape[1]
    mirrored = sample.landmarks.copy()
    mirrored[:, 0] = width - 1 - mirrored[:, 0]
    mirrored = mirrored[[1, 0, 2, 4, 3]]  # left and right swap in a mirror
    donor = dataclasses.replace(sample, rgb=tinted, landmarks=mirrored)
    moved, valid = align(donor, sample)
    # aligned back onto the original's landmarks, the donor's face sits where the original's is
    nose = [int(v) for v in sample.landmarks[2]]
    assert valid[nose[1], nose[0]] == 1
    x0, y0, x1, y1 = (int(v) for v in sample.box)
    face, moved_face = sample.rgb[y0:y1, x0:x1], moved[y0:y1, x0:x1]
    assert abs(float(moved_face.mean()) - float(tinted[y0:y1, ::-1][:, x0:x1].mean())) < 8
    assert moved_face[..., 2].mean() - face[..., 2].mean() > 10  # the donor's blue tint
    paste = donor_paste(sample, donor, np.random.default_rng(5))
    difference = np.abs(paste.image.astype(int) - sample.rgb.astype(int)).sum(-1)
    assert difference[paste.mask > 0.5].mean() > 10  # another face came in
    assert difference[paste.mask == 0].max() <= 1  # outside the mask nothing changed
    assert paste.mask[nose[1], nose[0]] > 0.5


def test_padding_along_the_edges_is_not_picture_but_a_dark_patch_inside_it_is():
    from unmask.train.donor_paste import picture_area

    rgb = np.full((64, 64, 3), 120, np.uint8)
    rgb[:, :10] = 0  # the black a face cut near its photo's edge is padded with
    rgb[30:40, 30:40] = 0  # a dark patch in the picture (hair, a pupil)
    area = picture_area(rgb)
    assert area[:, :10].sum() == 0
    assert area[30:40, 30:40].all() and area[:, 12:].all()


def test_a_donor_padded_where_the_mask_lies_never_brings_its_black_in(sample):
    from unmask.train.donor_paste import EDGE_PX, align, paste_region

    _, full_mask = paste_region(sample, sample, np.random.default_rng(3))
    # black padding over the donor's columns under the mask's leftmost 1 % (a face cut near
    # its photo's edge): little enough that the donor is still used
    share = np.cumsum(full_mask.sum(axis=0)) / full_mask.sum()
    edge = int(np.searchsorted(share, 0.01))
    donor = dataclasses.replace(sample, rgb=sample.rgb.copy())
    donor.rgb[:, :edge] = 0
    _, valid = align(donor, sample)
    assert (full_mask * (1 - valid)).sum() > 0  # the padding does lie under the mask
    region = paste_region(sample, donor, np.random.default_rng(3))
    assert region is not None
    _, mask = region
    near_padding = cv2.dilate(1 - valid, np.ones((2 * EDGE_PX - 1,) * 2, np.uint8)) > 0
    assert mask[near_padding].max() == 0
    assert mask.sum() > 0.9 * full_mask.sum()


def test_colour_matching_moves_the_spread_and_mean_by_its_strength():
    from unmask.train.donor_paste import match_colour

    rng = np.random.default_rng(0)
    source = rng.normal(100, 10, (32, 32, 3)).astype(np.float32)
    target = rng.normal(150, 30, (32, 32, 3)).astype(np.float32)
    weight = np.ones((32, 32), np.float32)
    assert np.allclose(match_colour(source, target, weight, 0.0), source)
    full = match_colour(source, target, weight, 1.0)
    assert np.allclose(full.mean((0, 1)), target.mean((0, 1)), atol=0.1)
    assert np.allclose(full.std((0, 1)), target.std((0, 1)), rtol=0.01)
    half = match_colour(source, target, weight, 0.5).mean((0, 1))
    assert np.allclose(half, (source.mean((0, 1)) + target.mean((0, 1))) / 2, atol=0.1)


def test_training_batches_mix_pastes_and_self_blends_by_the_paste_share(sample, monkeypatch):
    pytest.importorskip("torch", reason="training needs the unmask[train] extra")
    from unmask.train import trainer

    faces = [sample, dataclasses.replace(sample, rgb=sample.rgb[:, ::-1].copy())]
    made = []
    original = trainer.donor_paste

    def counting(target, donor, rng):
        made.append(donor)
        return original(target, donor, rng)

    monkeypatch.setattr(trainer, "donor_paste", counting)
    trainer.batch(faces, np.array([0, 1] * 20), np.random.default_rng(1), 0.0)
    assert made == []
    trainer.batch(faces, np.array([0, 1] * 20), np.random.default_rng(1), 1.0)
    assert len(made) == 40
    # never the face itself as its own donor
    assert all(d is faces[1] for d in made[0::2]) and all(d is faces[0] for d in made[1::2])
    made.clear()
    trainer.batch(faces, np.array([0, 1] * 20), np.random.default_rng(1), 0.5)
    assert 8 <= len(made) <= 32


def test_a_training_pair_goes_through_one_and_the_same_degradation(sample, monkeypatch):
    pytest.importorskip("torch", reason="training needs the unmask[train] extra")
    from unmask.train import trainer

    draws = []
    original = trainer.degrade

    def recording(rgb, rng):
        draws.append(rng.bit_generator.state["state"])
        return original(rgb, rng)

    monkeypatch.setattr(trainer, "degrade", recording)
    for seed in range(4):
        trainer.training_pair(sample, np.random.default_rng(seed))
    # real and fake of each pair from the same draws; other pairs from other draws
    assert draws[0::2] == draws[1::2]
    assert len({str(state) for state in draws[0::2]}) == 4


def test_skin_smoothing_flattens_texture_and_keeps_edges():
    from unmask.train.sbi import smooth_skin

    rng = np.random.default_rng(0)
    picture = np.full((96, 96, 3), 90, dtype=np.uint8)
    picture[:, 48:] = 200  # an edge
    noisy = np.clip(picture + rng.normal(0, 6, picture.shape), 0, 255).astype(np.uint8)
    smoothed = smooth_skin(noisy, np.random.default_rng(1)).astype(np.float64)
    assert smoothed.shape == noisy.shape
    assert smoothed[:, 5:40].std() < 0.5 * noisy[:, 5:40].astype(np.float64).std()
    # the edge stays within a few pixels
    row = smoothed[48, :, 0]
    assert row[44] < 110 and row[52] > 180
