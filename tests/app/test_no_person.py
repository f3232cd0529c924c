"""Windows with no one in view: no stream ran (`"streams": []`), and every summary counts them apart
from the windows that named a class."""

from __future__ import annotations

import dataclasses
import json

from sta_hands.app.headless import run_headless
from sta_hands.app.prediction import Prediction
from sta_hands.app.runtime import OnnxModel
from tests.app.conftest import list_source, moving_frames


def _person_leaves(count: int = 40, gone: int = 70):
    """`count` frames of one person, then `gone` frames of the empty room."""
    frames = moving_frames(count + gone)
    return frames[:count] + [dataclasses.replace(frame, bodies=()) for frame in frames[count:]]


def test_no_one_in_view_runs_no_stream_and_is_counted_apart(tiny_model_folder) -> None:
    predictions: list[Prediction] = []
    summary = run_headless(list_source(_person_leaves()), OnnxModel(tiny_model_folder), predictions.append)
    lines = [json.loads(json.dumps(p.to_json())) for p in predictions]
    nobody = [line for line in lines if line["status"] == "no person"]
    named = [line for line in lines if line["status"] != "no person"]
    assert nobody and named  # the person was in the first windows, then left
    assert all(line["streams"] == [] and line["top"] == [] for line in nobody)
    assert all(line["streams"] == ["pose", "rgb"] and line["top"] for line in named)
    assert summary.windows_classified == len(named) and summary.windows_no_person == len(nobody)
    assert f"{len(named)} windows classified, {len(nobody)} with no one in view" in summary.to_text()


def test_a_prediction_with_no_one_in_view_carries_no_stream_whoever_made_it(tiny_model_folder) -> None:
    frames = moving_frames(40)
    predictions: list[Prediction] = []
    run_headless(list_source(frames), OnnxModel(tiny_model_folder), predictions.append)
    made = predictions[-1]
    assert made.streams == ("pose", "rgb")
    nobody = Prediction(**{**made.__dict__, "status": "no person", "body_ids": (None, None)})
    assert nobody.streams == () and nobody.to_json()["streams"] == []
