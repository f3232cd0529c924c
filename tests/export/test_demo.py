"""The bundled demo (built by `python -m sta_hands.commands.make_demo`): a small model that describes itself,
and a short synthetic clip of the test side that it recognises through the app's own recognizer, and whose
explanation names a hand that acts there (issue 22)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sta_hands.app.gui.explain import focus
from sta_hands.app.recognizer import StreamRecognizer
from sta_hands.app.runtime import OnnxModel
from sta_hands.export import make_demo
from sta_hands.recordings.own.recording import RecordingPaths, open_recording
from sta_hands.recordings.synthetic import SYNTHETIC_CLASSES

MAX_MODEL_MB, MAX_CLIP_MB = 20.0, 5.0


@pytest.fixture(scope="module")
def demo_model() -> OnnxModel:
    if not (make_demo.DEMO_MODEL / "head.onnx").is_file():
        pytest.skip(
            f"the demo model is not built in {make_demo.DEMO_MODEL}: python -m sta_hands.commands.make_demo"
        )
    return OnnxModel(make_demo.DEMO_MODEL)


@pytest.fixture(scope="module")
def demo_clip() -> RecordingPaths:
    paths = RecordingPaths.of(make_demo.DEMO_CLIP)
    if not paths.sidecar.is_file():
        pytest.skip(f"the demo clip is not built at {paths.stem}: python -m sta_hands.commands.make_demo")
    return paths


def _megabytes(paths: tuple[Path, ...] | list[Path]) -> float:
    return sum(p.stat().st_size for p in paths) / 1e6


def test_the_demo_model_describes_itself(demo_model: OnnxModel) -> None:
    info = demo_model.info
    assert info.class_names == SYNTHETIC_CLASSES
    assert (info.backbone, info.glimpse_input_size, info.window_length) == (
        "efficientnet_lite0",
        make_demo.INPUT_SIZE,
        20,
    )
    assert 1.3 <= info.window_seconds <= 2.2  # the median synthetic clip
    assert info.model_version == make_demo.MODEL_VERSION + "+int8"  # the shipped glimpses are int8
    assert "time-grid training windows" in info.trained_on  # trained on live windows
    assert f"GRU {make_demo.RGB_HIDDEN} units" in info.trained_on


def test_the_shipped_metadata_is_what_make_demo_writes(demo_model: OnnxModel) -> None:
    expected = make_demo.demo_metadata()  # from make_demo's constants and the generator's plan
    shipped = make_demo.read_metadata(make_demo.DEMO_MODEL)
    split = {"projection.onnx"} if demo_model.split else set()  # a split head: its projection too
    assert set(shipped) == {"glimpse.onnx", "head.onnx", *split}
    for name, props in shipped.items():
        assert props == expected, name


def test_the_demo_files_are_small(demo_model: OnnxModel, demo_clip: RecordingPaths) -> None:
    assert _megabytes(sorted(make_demo.DEMO_MODEL.glob("*.onnx"))) < MAX_MODEL_MB
    assert _megabytes(demo_clip.all()) < MAX_CLIP_MB


def test_the_demo_clip_is_a_test_performers_synthetic_recording(demo_clip: RecordingPaths) -> None:
    recording = open_recording(demo_clip.stem)
    truth = recording.header["synthetic"]
    assert truth["class_name"] == make_demo.DEMO_CLASS and not recording.recovered
    assert recording.has_video and recording.num_frames >= 39
    assert recording.frame_extras(recording.num_frames // 2)["active_hands"]  # someone acts mid-clip


def test_the_app_recognises_the_demo_clip(demo_model: OnnxModel, demo_clip: RecordingPaths) -> None:
    recognizer = StreamRecognizer(demo_model, lossless=True)
    predictions = recognizer.feed(list(open_recording(demo_clip.stem).frames())) + recognizer.flush()
    assert predictions
    votes = Counter(prediction.top(1)[0][0] for prediction in predictions)
    assert votes.most_common(1)[0][0] == make_demo.DEMO_CLASS


def test_the_explanation_names_an_acting_hand_in_most_full_windows(
    demo_model: OnnxModel, demo_clip: RecordingPaths
) -> None:
    """The hand the explain dialog names (`focus`) acts, by the clip's sidecar, in one of the window's
    frames, in the majority of full windows ("give object": the right hands of both people)."""
    recording = open_recording(demo_clip.stem)
    recognizer = StreamRecognizer(demo_model, lossless=True)
    predictions = recognizer.feed(list(recording.frames())) + recognizer.flush()
    full = [prediction for prediction in predictions if prediction.status == "ok"]
    acting = [
        {
            hand
            for index in prediction.frame_indices
            for hand in recording.frame_extras(int(index))["active_hands"]
        }
        for prediction in full
    ]
    named = [focus(prediction).hand for prediction in full]
    assert full and sum(hand in hands for hand, hands in zip(named, acting, strict=True)) > len(full) / 2, (
        named
    )
