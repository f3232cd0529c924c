from __future__ import annotations

import json

from sta_hands.app.headless import run_headless
from sta_hands.app.runtime import OnnxModel
from sta_hands.commands.cli import main
from tests.app.conftest import list_source, moving_frames


def test_headless_run_summarises_every_window(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    lines = []
    summary = run_headless(list_source(moving_frames(60)), model, lines.append)
    assert summary.frames_read == 60
    assert summary.windows_classified == len(lines) > 0
    assert summary.frames_dropped == 0 and summary.windows_skipped == 0
    assert summary.latency_ms_p95 >= summary.latency_ms_p50 > 0
    assert summary.provider == "CPUExecutionProvider"


def test_realtime_run_follows_the_clock(tiny_model_folder) -> None:
    model = OnnxModel(tiny_model_folder)
    summary = run_headless(list_source(moving_frames(45)), model, lambda p: None, realtime=True, speed=4.0)
    assert summary.frames_read == 45 and summary.windows_classified > 0
    assert summary.seconds >= 44 / 30 / 4 * 0.9


def test_run_json_lines_schema(tiny_model_folder, tmp_path, capsys) -> None:
    from sta_hands.recordings.own.recording import RecordingWriter

    with RecordingWriter(tmp_path / "rec", fps=30.0) as writer:
        for frame in moving_frames(40):
            writer.write(frame)
    assert (
        main(["run", str(tmp_path / "rec.jsonl"), "--headless", "--json", "--model", str(tiny_model_folder)])
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    *predictions, summary = lines
    assert predictions
    for prediction in predictions:
        assert len(prediction["frame_indices"]) == 20
        assert {"class", "probability"} == set(prediction["top"][0])
        assert len(prediction["spatial_attention"]) == 20 and len(prediction["spatial_attention"][0]) == 4
        assert len(prediction["temporal_attention"]) == 20
        assert set(prediction["timings_ms"]) == {"crop", "glimpse", "head", "age"}
    assert set(summary["summary"]) >= {
        "frames_read", "windows_classified", "frames_dropped", "windows_skipped", "latency_ms_p50",
        "latency_ms_p95", "provider",
    }  # fmt: skip
    assert summary["summary"]["frames_read"] == 40


def test_run_on_a_missing_file_is_one_line(tmp_path, capsys) -> None:
    assert main(["run", str(tmp_path / "nothing.skeleton"), "--headless"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_decoding_only_sampled_images_gives_the_same_predictions(tiny_model_folder, tmp_path) -> None:
    from sta_hands.recordings.own.recording import RecordingWriter, open_recording
    from sta_hands.recordings.sources import open_reader

    with RecordingWriter(tmp_path / "rec", fps=30.0) as writer:
        for frame in moving_frames(70):
            writer.write(frame)
    model = OnnxModel(tiny_model_folder)
    skipping: list = []
    run_headless(open_reader(str(tmp_path / "rec.jsonl")), model, skipping.append)
    every_image = list(open_recording(tmp_path / "rec").frames())
    full: list = []
    run_headless(list_source(every_image), model, full.append)
    assert len(skipping) == len(full) > 5
    for a, b in zip(skipping, full, strict=True):
        assert list(a.frame_indices) == list(b.frame_indices)
        assert abs(a.logits - b.logits).max() <= 1e-5


def test_a_live_source_reuses_still_hands_and_a_file_computes_every_crop(tiny_model_folder) -> None:
    from sta_hands.contract.reader import FunctionReader

    model = OnnxModel(tiny_model_folder)
    frames = moving_frames(45)  # the left hand is still
    live = FunctionReader("a camera", None, 30.0, lambda start, images=None: iter(frames[start:]))
    for source, reused in ((live, True), (list_source(frames), False)):
        predictions = []
        run_headless(source, model, predictions.append)
        assert predictions and any(p.timings.crops_reused for p in predictions) == reused
        assert all(not p.crops_reused[:, 1].any() for p in predictions)  # the rising hand: always computed
