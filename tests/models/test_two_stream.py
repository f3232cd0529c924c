"""The two-stream head: fusion, the ONNX contract's outputs, invariances, export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from sta_hands.models.glimpse import build_backbone
from sta_hands.models.two_stream import INPUT_NAMES, OUTPUT_NAMES, ModelOutput, TwoStreamModel
from tests.models.conftest import (
    NUM_CLASSES,
    SPATIAL_MODES,
    WINDOW,
    Inputs,
    make_inputs,
    randomise_attention,
    tiny_config,
    translate_present_bodies,
)


def _model(spatial: str = "pose", temporal: str = "motion") -> TwoStreamModel:
    torch.manual_seed(0)
    return randomise_attention(TwoStreamModel(tiny_config(spatial, temporal))).eval()


def test_outputs_are_the_onnx_contract_and_logits_are_summed(inputs: Inputs) -> None:
    assert ModelOutput._fields == OUTPUT_NAMES
    assert INPUT_NAMES == ("features", "hand_mask", "pose")
    with torch.no_grad():
        out = _model()(*inputs)
    assert out.logits.shape == out.pose_logits.shape == out.rgb_logits.shape == (3, NUM_CLASSES)
    assert out.spatial_attention.shape == (3, WINDOW, 4)
    assert out.temporal_attention.shape == (3, WINDOW)
    torch.testing.assert_close(out.logits, out.pose_logits + out.rgb_logits)


@pytest.mark.parametrize("spatial", SPATIAL_MODES)
def test_translating_the_people_changes_no_output(spatial: str, inputs: Inputs) -> None:
    model = _model(spatial, "motion")
    moved = inputs._replace(pose=translate_present_bodies(inputs.pose, (0.7, -1.2, 1.5)))
    absent = inputs.pose == 0
    assert torch.equal(moved.pose[absent], inputs.pose[absent])  # the absent second body stays zeros
    with torch.no_grad():
        for a, b in zip(model(*inputs), model(*moved), strict=True):
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_from_streams_copies_both_trained_streams(inputs: Inputs) -> None:
    model = _model()
    torch.manual_seed(1)
    rebuilt = TwoStreamModel.from_streams(model.config, model.pose_stream, model.rgb_stream).eval()
    with torch.no_grad():
        for a, b in zip(model(*inputs), rebuilt(*inputs), strict=True):
            assert torch.equal(a, b)


def test_gradients_reach_the_head_but_never_the_frozen_backbone() -> None:
    backbone = build_backbone("efficientnet_lite0", input_size=32, pretrained=False)
    assert not any(parameter.requires_grad for parameter in backbone.parameters())
    config = tiny_config(feature_dim=backbone.spec.feature_dim)
    torch.manual_seed(0)
    head = randomise_attention(TwoStreamModel(config)).train()
    small = make_inputs(batch=1, feature_dim=1)
    crops = torch.randn(1 * WINDOW * 4, 3, 32, 32)
    features = backbone(crops).reshape(1, WINDOW, 4, -1)  # B x T x 4 x 1280
    out = head(features, small.hand_mask, small.pose)
    torch.nn.functional.cross_entropy(out.logits, torch.tensor([2])).backward()
    assert all(parameter.grad is None for parameter in backbone.parameters())
    for name, parameter in head.named_parameters():
        assert parameter.grad is not None and float(parameter.grad.abs().sum()) > 0, name


# the legacy (TorchScript) exporter: the dynamo one needs onnxscript; its warnings are torch's own
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
@pytest.mark.filterwarnings("ignore:Exporting a model to ONNX with a batch_size other than 1")
@pytest.mark.parametrize(("spatial", "temporal"), [("pose", "motion"), ("both", "hidden_motion")])
def test_head_exports_to_onnx_and_matches(spatial: str, temporal: str, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = _model(spatial, temporal)
    path = tmp_path / "head.onnx"
    axes = {name: {0: "batch"} for name in INPUT_NAMES + OUTPUT_NAMES}
    torch.onnx.export(
        model, tuple(make_inputs(batch=2)), path, dynamo=False, opset_version=17,
        input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES), dynamic_axes=axes,
    )  # fmt: skip
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = make_inputs(batch=4, seed=3)
    got = session.run(list(OUTPUT_NAMES), {name: tensor.numpy() for name, tensor in inputs._asdict().items()})
    with torch.no_grad():
        expected = model(*inputs)
    for name, a, b in zip(OUTPUT_NAMES, got, expected, strict=True):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-4, rtol=1e-4, err_msg=name)
