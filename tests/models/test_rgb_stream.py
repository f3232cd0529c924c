"""STA-Hands: attention over hands and over time, conditioned on the pose; its ablation variants."""

from __future__ import annotations

import pytest
import torch

from sta_hands.models.rgb_stream import RgbStreamOutput, STAHands, masked_softmax
from tests.models.conftest import (
    FEATURE_DIM,
    NUM_CLASSES,
    SPATIAL_MODES,
    TEMPORAL_MODES,
    WINDOW,
    Inputs,
    make_inputs,
    randomise_attention,
    tiny_config,
)


def _model(
    spatial: str = "pose", temporal: str = "motion", seed: int = 0, randomise: bool = True
) -> STAHands:
    torch.manual_seed(seed)
    model = STAHands(tiny_config(spatial, temporal)).eval()
    return randomise_attention(model, seed) if randomise else model


def _run(model: STAHands, inputs: Inputs) -> RgbStreamOutput:
    with torch.no_grad():
        return model(inputs.features, inputs.hand_mask, inputs.pose)


@pytest.mark.parametrize("spatial", SPATIAL_MODES)
@pytest.mark.parametrize("temporal", TEMPORAL_MODES)
def test_every_variant_gives_the_contract_shapes(spatial: str, temporal: str, inputs: Inputs) -> None:
    out = _run(_model(spatial, temporal), inputs)
    assert out.logits.shape == (3, NUM_CLASSES)
    assert out.spatial_attention.shape == (3, WINDOW, 4)
    assert out.temporal_attention.shape == (3, WINDOW)
    assert all(torch.isfinite(tensor).all() for tensor in out)


def test_concat_feeds_four_hands_to_the_gru() -> None:
    assert _model("concat").gru.input_size == 4 * FEATURE_DIM
    assert _model("sum").gru.input_size == FEATURE_DIM


@pytest.mark.parametrize("spatial", SPATIAL_MODES)
def test_spatial_attention_sums_to_one_over_present_hands_and_is_zero_for_absent(
    spatial: str, inputs: Inputs
) -> None:
    attention = _run(_model(spatial), inputs).spatial_attention
    mask = inputs.hand_mask
    assert torch.all(attention[mask == 0] == 0)
    assert torch.all(attention >= 0)
    any_hand = mask.sum(dim=-1) > 0
    torch.testing.assert_close(attention.sum(dim=-1)[any_hand], torch.ones(int(any_hand.sum())))
    assert torch.all(attention[~any_hand] == 0)  # a frame with nobody: zeros, not NaN
    assert (~any_hand).any()


@pytest.mark.parametrize("temporal", TEMPORAL_MODES)
def test_temporal_attention_is_a_distribution_over_steps(temporal: str, inputs: Inputs) -> None:
    attention = _run(_model("pose", temporal), inputs).temporal_attention
    assert torch.all(attention >= 0)
    torch.testing.assert_close(attention.sum(dim=-1), torch.ones(3))
    if temporal == "last":
        assert torch.equal(attention, torch.eye(WINDOW)[-1].expand(3, -1))
    if temporal == "mean":
        torch.testing.assert_close(attention, torch.full((3, WINDOW), 1 / WINDOW))


@pytest.mark.parametrize("spatial", SPATIAL_MODES)
@pytest.mark.parametrize("temporal", ["motion", "hidden_motion"])
def test_attention_is_uniform_at_initialisation(spatial: str, temporal: str, inputs: Inputs) -> None:
    out = _run(_model(spatial, temporal, randomise=False), inputs)
    mask = inputs.hand_mask
    uniform = mask / mask.sum(dim=-1, keepdim=True).clamp_min(1)
    torch.testing.assert_close(out.spatial_attention, uniform)
    torch.testing.assert_close(out.temporal_attention, torch.full((3, WINDOW), 1 / WINDOW))


def test_sta_attention_ignores_the_rgb_features_and_follows_the_pose(inputs: Inputs) -> None:
    model = _model("pose", "motion")
    reference = _run(model, inputs)
    other_rgb = _run(model, inputs._replace(features=torch.randn_like(inputs.features)))
    assert torch.equal(reference.spatial_attention, other_rgb.spatial_attention)
    assert torch.equal(reference.temporal_attention, other_rgb.temporal_attention)
    assert not torch.equal(reference.logits, other_rgb.logits)
    other_pose = _run(model, inputs._replace(pose=make_inputs(seed=1).pose))
    assert not torch.allclose(reference.spatial_attention, other_pose.spatial_attention)
    assert not torch.allclose(reference.temporal_attention, other_pose.temporal_attention)


def test_hidden_state_attention_does_follow_the_rgb_features(inputs: Inputs) -> None:
    model = _model("hidden", "hidden_motion")
    reference = _run(model, inputs)
    other_rgb = _run(model, inputs._replace(features=torch.randn_like(inputs.features)))
    assert not torch.allclose(reference.spatial_attention, other_rgb.spatial_attention)
    assert not torch.allclose(reference.temporal_attention, other_rgb.temporal_attention)


@pytest.mark.parametrize("spatial", SPATIAL_MODES)
def test_absent_hands_features_change_nothing(spatial: str, inputs: Inputs) -> None:
    model = _model(spatial, "hidden_motion")
    noise = torch.randn_like(inputs.features) * (inputs.hand_mask == 0)[..., None]
    reference = _run(model, inputs)
    other = _run(model, inputs._replace(features=inputs.features + noise))
    for a, b in zip(reference, other, strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("spatial", SPATIAL_MODES)
@pytest.mark.parametrize("temporal", TEMPORAL_MODES)
def test_gradients_reach_every_parameter(spatial: str, temporal: str, inputs: Inputs) -> None:
    model = _model(spatial, temporal).train()
    out = model(inputs.features, inputs.hand_mask, inputs.pose)
    torch.nn.functional.cross_entropy(out.logits, torch.tensor([0, 1, 2])).backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None, name
        assert float(parameter.grad.abs().sum()) > 0, name


def test_masked_softmax_of_an_all_masked_row_is_zeros_not_nan() -> None:
    scores = torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    weights = masked_softmax(scores, torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 1.0]]))
    assert torch.equal(weights[0], torch.zeros(3))
    expected = torch.softmax(torch.tensor([1.0, 3.0]), dim=0)
    torch.testing.assert_close(weights[1], torch.stack([expected[0], torch.tensor(0.0), expected[1]]))


@pytest.mark.parametrize("bad", ["features", "hand_mask", "pose"])
def test_wrong_input_shape_is_a_clear_error(bad: str, inputs: Inputs) -> None:
    tensor = getattr(inputs, bad)
    with pytest.raises(ValueError, match=bad):
        _model()(**{**inputs._asdict(), bad: tensor[:, :-1]})


def test_without_temporal_attention_every_step_is_classified_and_the_logits_are_their_mean(
    inputs: Inputs,
) -> None:
    model = _model("pose", "mean")
    with torch.no_grad():
        steps = model.step_logits(inputs.features, inputs.hand_mask, inputs.pose)
        hidden, _, _ = model._hidden_states(inputs.features, inputs.hand_mask, inputs.pose)
        torch.testing.assert_close(steps, model.classifier(hidden))
        torch.testing.assert_close(_run(model, inputs).logits, steps.mean(dim=1))
    assert steps.shape == (3, WINDOW, NUM_CLASSES)


@pytest.mark.parametrize("temporal", ["motion", "last"])
def test_a_stream_that_pools_the_steps_has_no_step_logits(temporal: str, inputs: Inputs) -> None:
    model = _model("pose", temporal)
    assert not model.classifies_every_step
    with pytest.raises(ValueError, match="no step logits"):
        model.step_logits(inputs.features, inputs.hand_mask, inputs.pose)
