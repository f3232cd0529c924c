"""Deep GRU: stacked GRUs on the centred pose, per-step classifier averaged."""

from __future__ import annotations

import torch

from sta_hands.models.pose_features import pose_features
from sta_hands.models.pose_stream import DeepGRU
from tests.models.conftest import NUM_CLASSES, make_inputs, tiny_config, translate_present_bodies


def test_layers_follow_the_config() -> None:
    model = DeepGRU(tiny_config())
    assert (model.gru.num_layers, model.gru.hidden_size, model.gru.input_size) == (3, 8, 150)
    assert model.gru.batch_first and model.gru.dropout == 0.5


def test_logits_are_the_mean_of_the_per_step_logits() -> None:
    torch.manual_seed(0)
    model = DeepGRU(tiny_config()).eval()
    raw = make_inputs().pose
    with torch.no_grad():
        logits = model(raw)
        hidden, _ = model.gru(pose_features(raw).pose)
        expected = model.classifier(hidden).mean(dim=1)
    assert logits.shape == (3, NUM_CLASSES)
    torch.testing.assert_close(logits, expected)


def test_translation_leaves_logits_unchanged() -> None:
    torch.manual_seed(0)
    model = DeepGRU(tiny_config()).eval()
    raw = make_inputs().pose
    with torch.no_grad():
        torch.testing.assert_close(
            model(raw), model(translate_present_bodies(raw, (-2.0, 0.5, 1.0))), atol=1e-5, rtol=0
        )


def test_step_logits_are_one_prediction_per_step_and_forward_is_their_mean() -> None:
    torch.manual_seed(0)
    model = DeepGRU(tiny_config()).eval()
    raw = make_inputs().pose
    with torch.no_grad():
        steps = model.step_logits(raw)
        hidden, _ = model.gru(pose_features(raw).pose)
        torch.testing.assert_close(steps, model.classifier(hidden))  # every hidden state is classified
        torch.testing.assert_close(model(raw), steps.mean(dim=1))
    assert steps.shape == (3, raw.shape[1], NUM_CLASSES)
