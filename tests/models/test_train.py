"""Training a stream on cached features: it learns, logs, checkpoints, resumes; two streams combine."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from sta_hands.models import checkpoint
from sta_hands.models.config import ModelConfig, PoseStreamConfig, RgbStreamConfig
from sta_hands.models.data import DataError, evaluation_windows, find_dataset
from sta_hands.models.features.cache import load_clip
from sta_hands.models.features.store import FeatureStore
from sta_hands.models.train import (
    BEST,
    LAST,
    LOG,
    TrainSettings,
    combine_streams,
    load_config_file,
    predict,
    train_stream,
)
from sta_hands.models.two_stream import TwoStreamModel
from tests.models.test_data import tiny_cache, tiny_dataset

TINY = ModelConfig(
    pose=PoseStreamConfig(hidden_size=16),
    rgb=RgbStreamConfig(hidden_size=16, spatial_hidden=16, temporal_hidden=8),
)


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


EASY_EPOCHS = 20
FAST = TrainSettings(epochs=3, learning_rate=1e-2, batch_size=4, validation_fraction=0.1)


def test_a_tiny_pose_stream_beats_chance_on_an_easy_subset_and_writes_its_log(tmp_path: Path) -> None:
    dataset = find_dataset(tiny_dataset())
    easy = dataclasses.replace(
        dataset, clips=tuple(c for c in dataset.clips if c.label in (7, 5))
    )  # squat, wave
    config = dataclasses.replace(TINY, pose=PoseStreamConfig(hidden_size=32))
    settings = dataclasses.replace(FAST, epochs=EASY_EPOCHS, validation_fraction=0.0)
    result = train_stream(
        "pose", easy, tiny_cache(), tmp_path, split=None, config=config, settings=settings, progress=False
    )
    rows = read_rows(tmp_path / LOG)
    assert [int(r["epoch"]) for r in rows] == list(range(1, EASY_EPOCHS + 1))
    assert set(rows[0]) == {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds"}
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    assert (tmp_path / BEST).is_file() and (tmp_path / LAST).is_file()
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    model, _, metadata = checkpoint.load(result.best)
    store = FeatureStore(tiny_cache(), easy.clips)
    windows = [evaluation_windows(c.name, store.num_frames(i), 20) for i, c in enumerate(easy.clips)]
    outputs = predict(model, store, range(len(easy.clips)), windows, torch.device("cpu"))
    predicted = [int(np.argmax(o["logits"].mean(axis=0))) for o in outputs]
    accuracy = np.mean(np.array(predicted) == store.labels(range(len(easy.clips))))
    assert accuracy > 0.5  # two classes
    assert metadata["class_names"][7] == "squat" and metadata["stream"] == "pose"


def test_resuming_gives_the_same_weights_as_an_uninterrupted_run(tmp_path: Path) -> None:
    dataset = find_dataset(tiny_dataset())
    straight = train_stream(
        "rgb", dataset, tiny_cache(), tmp_path / "straight", config=TINY, settings=FAST, progress=False
    )
    two = dataclasses.replace(FAST, epochs=2)
    train_stream("rgb", dataset, tiny_cache(), tmp_path / "cut", config=TINY, settings=two, progress=False)
    resumed = train_stream(
        "rgb", dataset, tiny_cache(), tmp_path / "cut", settings=FAST, resume=True, progress=False
    )
    assert resumed.epochs == straight.epochs == 3
    assert len(read_rows(tmp_path / "cut" / LOG)) == 3
    a, b = checkpoint.load(straight.last)[0].state_dict(), checkpoint.load(resumed.last)[0].state_dict()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6)


def test_a_fresh_run_refuses_a_folder_with_a_run_and_resume_needs_one(tmp_path: Path) -> None:
    dataset = find_dataset(tiny_dataset())
    with pytest.raises(DataError, match="nothing to resume"):
        train_stream(
            "pose", dataset, tiny_cache(), tmp_path, config=TINY, settings=FAST, resume=True, progress=False
        )
    train_stream(
        "pose",
        dataset,
        tiny_cache(),
        tmp_path,
        config=TINY,
        settings=dataclasses.replace(FAST, epochs=1),
        progress=False,
    )
    with pytest.raises(DataError, match="--resume"):
        train_stream("pose", dataset, tiny_cache(), tmp_path, config=TINY, settings=FAST, progress=False)


def test_two_trained_streams_combine_into_a_two_stream_checkpoint_with_its_metadata(tmp_path: Path) -> None:
    dataset = find_dataset(tiny_dataset())
    one = dataclasses.replace(FAST, epochs=1)
    pose = train_stream(
        "pose", dataset, tiny_cache(), tmp_path / "pose", config=TINY, settings=one, progress=False
    )
    rgb = train_stream(
        "rgb", dataset, tiny_cache(), tmp_path / "rgb", config=TINY, settings=one, progress=False
    )
    path = combine_streams(pose.best, rgb.best, tmp_path / "two.safetensors")
    model, config, metadata = checkpoint.load(path)
    assert (
        isinstance(model, TwoStreamModel) and config.rgb.hidden_size == 16 and config.pose.hidden_size == 16
    )
    train = dataset.split("cs", "train")
    spans = [np.ptp(load_clip(tiny_cache(), c.name).timestamps) for c in train]  # first to last frame
    assert metadata["window_seconds"] == pytest.approx(np.median(spans)) == pytest.approx(11 / 30)
    assert metadata["class_names"] == list(dataset.class_names)
    assert metadata["backbone"]["name"] == "efficientnet_lite0" and metadata["backbone"]["input_size"] == 32
    assert "cs" in metadata["trained_on"] and metadata["stream"] == "both"
    torch.testing.assert_close(model.rgb_stream.state_dict(), checkpoint.load(rgb.best)[0].state_dict())


def test_training_draws_live_windows_of_the_window_seconds_it_writes(tmp_path: Path, monkeypatch) -> None:
    import sta_hands.models.train as train

    original, drawn = train.draw_window, []

    def recorded(timestamps, length, seconds, rng, sampling):
        drawn.append((seconds, sampling, "train" if rng is not None else "validation"))
        return original(timestamps, length, seconds, rng, sampling)

    monkeypatch.setattr(train, "draw_window", recorded)
    dataset = find_dataset(tiny_dataset())
    one = dataclasses.replace(FAST, epochs=1)
    result = train_stream("pose", dataset, tiny_cache(), tmp_path, config=TINY, settings=one, progress=False)
    seconds = checkpoint.load(result.best)[2]["window_seconds"]
    kept, held = train.validation_split(
        len(dataset.split("cs", "train")), FAST.validation_fraction, FAST.seed
    )
    assert sorted(drawn) == sorted(
        [(seconds, "time", "train")] * len(kept) + [(seconds, "time", "validation")] * len(held)
    )


def test_the_trained_attention_sums_to_one_over_present_hands_and_is_zero_for_absent_ones(
    tmp_path: Path,
) -> None:
    dataset = find_dataset(tiny_dataset())
    result = train_stream("rgb", dataset, tiny_cache(), tmp_path, config=TINY, settings=FAST, progress=False)
    model = checkpoint.load(result.best)[0]
    store = FeatureStore(tiny_cache(), dataset.clips)
    windows = [evaluation_windows(c.name, store.num_frames(i), 20) for i, c in enumerate(dataset.clips)]
    for output in predict(model, store, range(len(dataset.clips)), windows, torch.device("cpu")):
        spatial, mask = output["spatial_attention"], output["hand_mask"]
        assert np.all(spatial[mask == 0] == 0)
        present = mask.sum(axis=-1) > 0
        np.testing.assert_allclose(spatial.sum(axis=-1)[present], 1.0, atol=1e-5)
        np.testing.assert_allclose(output["temporal_attention"].sum(axis=-1), 1.0, atol=1e-5)


def test_config_files_hold_a_model_config_or_model_and_training_settings(tmp_path: Path) -> None:
    plain, nested, bad = tmp_path / "plain.json", tmp_path / "nested.json", tmp_path / "bad.json"
    plain.write_text('{"rgb": {"spatial": "sum", "temporal": "mean"}}')
    nested.write_text('{"model": {"rgb": {"hidden_size": 64}}, "train": {"learning_rate": 0.001}}')
    bad.write_text('{"rgb": {"spatial": "everywhere"}}')
    assert load_config_file(plain)[0].rgb.spatial == "sum"
    config, train = load_config_file(nested)
    assert config.rgb.hidden_size == 64 and TrainSettings.from_dict(train).learning_rate == 0.001
    with pytest.raises(DataError, match=r"bad\.json"):
        load_config_file(bad)


def test_the_command_line_chains_features_train_and_evaluate(tmp_path: Path, capsys) -> None:
    from sta_hands.commands.cli import main

    data, cache, run = tiny_dataset(), tmp_path / "cache", tmp_path / "run"
    config = tmp_path / "tiny.json"
    config.write_text('{"model": {"pose": {"hidden_size": 8}, "rgb": {"hidden_size": 8}}}')
    assert main(f"features {data} --out {cache} --input-size 32".split()) == 0
    assert "24 clips computed" in capsys.readouterr().out
    train = f"train --data {data} --features {cache} --stream both --config {config} --epochs 1 --out {run}"
    assert main([*train.split(), "--sampling", "segments"]) == 0
    assert checkpoint.load(run / "rgb" / BEST)[2]["train_settings"]["sampling"] == "segments"
    model = run / "two_stream.safetensors"
    evaluate = (
        f"evaluate --model {model} --data {data} --features {cache} --split cs --out {tmp_path / 'eval'}"
    )
    assert main(evaluate.split()) == 0
    assert (tmp_path / "eval" / "report.json").is_file() and (tmp_path / "eval" / "confusion.png").is_file()
    assert main(f"evaluate --model {model} --data {data}".split()) == 2
    assert "pass --features" in capsys.readouterr().err
    assert main(f"features {data} --out {cache} --input-size 48".split()) == 2
    assert "this cache holds features of efficientnet_lite0 at 32 px" in capsys.readouterr().err


def test_the_step_loss_is_every_steps_cross_entropy_averaged_and_the_prediction_the_mean_logits() -> None:
    from sta_hands.models.train import _loss_and_logits

    steps = torch.tensor([[[4.0, 0.0], [0.0, 4.0], [0.0, 4.0]]])  # 1 x 3 steps x 2 classes
    labels = torch.tensor([1])
    loss, logits = _loss_and_logits(steps, labels)
    per_step = [np.log1p(np.exp(4.0)), np.log1p(np.exp(-4.0)), np.log1p(np.exp(-4.0))]  # -log softmax[1]
    assert float(loss) == pytest.approx(np.mean(per_step), rel=1e-5)
    torch.testing.assert_close(logits, steps.mean(dim=1))
    pooled_loss, _ = _loss_and_logits(steps.mean(dim=1), labels)  # one loss on the averaged logits
    assert float(pooled_loss) == pytest.approx(np.log1p(np.exp(-4.0 / 3)), rel=1e-5)
    assert float(pooled_loss) < float(loss)  # not the same objective


@pytest.mark.parametrize("step_loss", [True, False])
def test_a_stream_without_temporal_attention_learns_with_either_loss(tmp_path: Path, step_loss: bool) -> None:
    dataset = find_dataset(tiny_dataset())
    easy = dataclasses.replace(dataset, clips=tuple(c for c in dataset.clips if c.label in (7, 5)))
    config = dataclasses.replace(TINY, rgb=dataclasses.replace(TINY.rgb, temporal="mean"))
    settings = dataclasses.replace(FAST, epochs=8, validation_fraction=0.0, step_loss=step_loss)
    train_stream(
        "rgb", easy, tiny_cache(), tmp_path, split=None, config=config, settings=settings, progress=False
    )
    rows = read_rows(tmp_path / LOG)
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
