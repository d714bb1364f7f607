"""`unmask eval` as a researcher runs it: a labelled folder or label file in, results as JSON
Lines as they are made (resumable), metrics JSON, a ROC curve and a table out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from face_model_factory import write_model
from PIL import Image
from test_face_swap import BLUE, RED, save_png, tinted, unmask, write_face_video

from unmask.eval_command import LabelledFile, read_labels, select

PURPLE = (0.6, 0.95, 1.1)


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """real/: two bluish portraits and a file that is not a picture; fake/: a reddish portrait
    and a reddish video made by a "swapper" method."""
    folder = tmp_path / "labelled"
    (folder / "real").mkdir(parents=True)
    (folder / "fake" / "swapper").mkdir(parents=True)
    save_png(tinted(BLUE), folder / "real" / "blue.png")
    save_png(tinted(PURPLE), folder / "real" / "purple.png")
    (folder / "real" / "notes.txt").write_text("not a picture\n")
    save_png(tinted(RED), folder / "fake" / "red.png")
    write_face_video(folder / "fake" / "swapper" / "red.mp4", [RED, RED], fps=4)
    return folder


def test_eval_on_a_labelled_folder_writes_results_metrics_and_a_roc_curve(
    labelled: Path, tmp_path: Path
):
    model = write_model(tmp_path / "model")
    out = tmp_path / "eval"
    run = unmask("eval", str(labelled), "--model", str(model), "-o", str(out), "--frames", "4")
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr

    lines = (out / "results.jsonl").read_text().splitlines()
    records = {json.loads(line)["path"]: json.loads(line) for line in lines}
    assert set(records) == {
        "real/blue.png",
        "real/purple.png",
        "fake/red.png",
        "fake/swapper/red.mp4",
    }, "notes.txt beside the photos is no unreadable medium: it is skipped and named"
    assert "skipped 1 file that is not a picture or video: real/notes.txt" in run.stderr
    assert records["fake/swapper/red.mp4"]["method"] == "swapper"
    assert len(records["fake/swapper/red.mp4"]["frames"]) == 4

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["skipped_not_media"] == ["real/notes.txt"]
    assert metrics["counts"] == {
        "files": 4,
        "scanned": 4,
        "errors": 0,
        "no_face": 0,
        "frames": 7,
    }
    overall = metrics["overall"]
    assert overall["file"]["auc"] == 1.0 and overall["frame"]["auc"] == 1.0
    assert (overall["file"]["n_fake"], overall["file"]["n_real"]) == (2, 2)
    assert overall["frame"]["n_fake"] == 5
    assert overall["file"]["operating_point"]["accuracy"] == 1.0
    assert overall["file"]["tpr_at_1pct_fpr"] == 1.0
    assert 0 <= overall["file"]["ece"] < 0.1
    assert metrics["by_media"]["video"]["file"]["n_fake"] == 1
    assert metrics["by_method"]["swapper"]["flagged"] == 1.0
    assert metrics["by_method"]["swapper"]["auc_vs_all_real"] == 1.0
    assert metrics["by_method"]["real"]["flagged"] == 0.0
    assert metrics["model"]["version"] == "test-colour"
    assert Image.open(out / "roc.png").format == "PNG"
    assert "AUC" in run.stdout and "swapper" in run.stdout

    again = unmask("eval", str(labelled), "--model", str(model), "-o", str(out))
    assert again.returncode == 0, again.stderr
    assert "4 of 4 files already scanned" in again.stderr
    assert (out / "results.jsonl").read_text().splitlines() == lines

    # the same network under a changed card (same name and version) is another model: its
    # results are never mixed with the earlier ones
    card_file = model.with_suffix(".json")
    card_file.write_text(json.dumps({**json.loads(card_file.read_text()), "mirror_average": True}))
    changed = unmask("eval", str(labelled), "--model", str(model), "-o", str(out))
    assert changed.returncode == 64 and "holds results of another model" in changed.stderr
    assert "--restart" in changed.stderr and "Traceback" not in changed.stderr
    assert (out / "results.jsonl").read_text().splitlines() == lines


def test_eval_reads_a_label_file_and_filters_by_manipulation_media_and_limit(tmp_path: Path):
    save_png(tinted(BLUE), tmp_path / "a.png")
    save_png(tinted(RED), tmp_path / "b.png")
    save_png(tinted(RED), tmp_path / "c.png")
    (tmp_path / "labels.csv").write_text(
        "path,label,media,manipulation,method\n"
        "a.png,real,image,none,camera\n"
        "b.png,fake,image,face_swap,simswap\n"
        "c.png,fake,image,synthetic,stylegan2\n"
        "d.mp4,fake,video,face_swap,deepfacelive\n"
    )
    model = write_model(tmp_path / "model")
    out = tmp_path / "eval"
    run = unmask(
        "eval",
        str(tmp_path / "labels.csv"),
        "--model",
        str(model),
        "-o",
        str(out),
        "--manipulation",
        "face_swap,reenactment",
        "--media",
        "image",
    )
    assert run.returncode == 0, run.stderr
    paths = [json.loads(line)["path"] for line in (out / "results.jsonl").read_text().splitlines()]
    assert sorted(paths) == ["a.png", "b.png"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["by_method"]["simswap"]["auc_vs_all_real"] == 1.0
    assert metrics["filters"]["manipulation"] == ["face_swap", "reenactment"]


def test_limit_takes_fake_and_real_in_turn_and_manipulation_keeps_every_real():
    def item(name: str, label: str, kind: str) -> LabelledFile:
        return LabelledFile(Path(name), name, label, "image", kind, "m")

    files = [item(f"r{i}", "real", "none") for i in range(4)] + [
        item("f0", "fake", "face_swap"),
        item("f1", "fake", "synthetic"),
        item("f2", "fake", "face_swap"),
    ]
    chosen = select(files, {"face_swap"}, None, 3, set())
    assert [f.name for f in chosen] == ["f0", "r0", "f2"]
    assert len(select(files, {"face_swap"}, None, None, {"r3"})) == 5


def test_eval_explains_a_damaged_model_and_a_bad_label_file(tmp_path: Path, labelled: Path):
    model = write_model(tmp_path / "model")
    model.write_bytes(b"damaged")
    run = unmask("eval", str(labelled), "--model", str(model), "-o", str(tmp_path / "out"))
    assert run.returncode == 2 and "could not load model" in run.stderr
    assert "Traceback" not in run.stderr
    (tmp_path / "bad.csv").write_text("file,verdict\nx.png,fake\n")
    run = unmask("eval", str(tmp_path / "bad.csv"))
    assert run.returncode == 64 and "path and label" in run.stderr
    empty = tmp_path / "nothing"
    empty.mkdir()
    assert read_labels(labelled)[0].label == "real"
    run = unmask("eval", str(empty))
    assert run.returncode == 64 and "no files under real/ or fake/" in run.stderr


def test_eval_counts_a_file_named_in_a_label_file_as_an_error_even_when_it_is_no_medium(
    labelled: Path, tmp_path: Path
):
    (labelled / "labels.csv").write_text(
        "path,label\nreal/blue.png,real\nreal/notes.txt,real\nfake/red.png,fake\n"
    )
    model = write_model(tmp_path / "model")
    out = tmp_path / "eval"
    run = unmask("eval", str(labelled / "labels.csv"), "--model", str(model), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert "skipped" not in run.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["skipped_not_media"] == []
    assert metrics["counts"]["files"] == 3 and metrics["counts"]["errors"] == 1


def test_eval_on_a_folder_holding_only_notes_says_there_is_nothing_to_measure(tmp_path: Path):
    (tmp_path / "only" / "real").mkdir(parents=True)
    (tmp_path / "only" / "real" / "notes.txt").write_text("to do: find photos\n")
    run = unmask("eval", str(tmp_path / "only"), "-o", str(tmp_path / "out"))
    assert run.returncode == 64 and "no pictures or videos under real/ or fake/" in run.stderr
    assert "skipped 1 file that is not a picture or video: real/notes.txt" in run.stderr
