"""The split head (projection.onnx per crop, head.onnx on projected glimpses) computes what the unsplit
two-stream model computes: in PyTorch and through ONNX Runtime, on random and on trained weights, with
absent hands and a step with no hand at all; folders exported before the split still run, and a split
head without its projection is refused in one line."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest

torch = pytest.importorskip("torch", reason="the export needs the train extra")

from sta_hands.app.recognizer import GlimpseCache, classify_window  # noqa: E402
from sta_hands.app.runtime import ModelError, OnnxModel  # noqa: E402
from sta_hands.contract.onnx_contract import (  # noqa: E402
    GLIMPSE_FILE,
    HEAD_FILE,
    PROJECTED_HEAD_INPUTS,
    PROJECTION_FILE,
)
from sta_hands.export.onnx import ExportMetadata, export_model  # noqa: E402
from sta_hands.export.projected_head import GlimpseProjection, ProjectedHead, splittable  # noqa: E402
from sta_hands.export.quantize import quantize_int8  # noqa: E402
from sta_hands.models.glimpse import build_backbone  # noqa: E402
from sta_hands.models.two_stream import TwoStreamModel  # noqa: E402
from tests.app.conftest import moving_frames  # noqa: E402
from tests.image_glimpse import normalise_batch_norms  # noqa: E402
from tests.models.conftest import NUM_CLASSES, make_inputs, randomise_attention, tiny_config  # noqa: E402

SPLIT_MODES = [
    ("pose", "motion"),  # STA-Hands
    ("sum", "mean"),
    ("hidden", "last"),
    ("both", "hidden_motion"),
]
METADATA = ExportMetadata(tuple(f"class {i}" for i in range(NUM_CLASSES)), 1.0, "tests", "test")
OUTPUTS = ("logits", "spatial_attention", "temporal_attention", "pose_logits", "rgb_logits")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One thread: on 2 shared cores, PyTorch's second thread mostly waits for the first."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def random_model(spatial: str, temporal: str, feature_dim: int = 16, seed: int = 0) -> TwoStreamModel:
    torch.manual_seed(seed)
    model = TwoStreamModel(tiny_config(spatial, temporal, feature_dim))
    return randomise_attention(model, seed).eval()


def trained_model(spatial: str, temporal: str, feature_dim: int = 16) -> TwoStreamModel:
    """A tiny model after 20 Adam steps on a fixed batch (weights the optimizer made, not an init)."""
    model = random_model(spatial, temporal, feature_dim, seed=1).train()
    inputs = make_inputs(batch=6, seed=5, feature_dim=feature_dim)
    labels = torch.arange(6) % NUM_CLASSES
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(20):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(*inputs).logits, labels)
        loss.backward()
        optimizer.step()
    return model.eval()


def _assert_same(expected, got, atol: float = 1e-5) -> None:
    for name, e, g in zip(OUTPUTS, expected, got, strict=True):
        e = e.numpy() if hasattr(e, "numpy") else e
        assert np.allclose(e, g, atol=atol), (name, float(np.abs(e - g).max()))


@pytest.mark.parametrize(("spatial", "temporal"), SPLIT_MODES)
@pytest.mark.parametrize("make", [random_model, trained_model], ids=["random", "trained"])
def test_projected_head_in_pytorch_equals_the_unsplit_model(spatial: str, temporal: str, make) -> None:
    model = make(spatial, temporal)
    inputs = make_inputs(batch=3, seed=2)  # absent hands, a body missing, a step with no hand (sample 2)
    assert inputs.hand_mask[2, 17].sum() == 0
    with torch.no_grad():
        expected = model(*inputs)
        projected = GlimpseProjection(model)(inputs.features)
        got = ProjectedHead(model)(projected, inputs.hand_mask, inputs.pose)
    _assert_same(expected, [g.numpy() for g in got])
    # the projection is per crop: one hand's projection does not depend on the others
    alone = GlimpseProjection(model)(inputs.features[0, 0, :1])
    assert torch.allclose(alone, projected[0, 0, :1], atol=1e-6)


def test_concat_has_no_per_hand_projection() -> None:
    assert not splittable(random_model("concat", "motion"))
    with pytest.raises(ValueError, match="concat"):
        GlimpseProjection(random_model("concat", "motion"))


@pytest.fixture(scope="module")
def backbone():
    """A random backbone whose features depend on the crop (`tests.image_glimpse`)."""
    torch.manual_seed(0)
    network = build_backbone("efficientnet_lite0", input_size=32, pretrained=False)
    normalise_batch_norms(network)
    return network


def _export(model: TwoStreamModel, backbone, folder: Path, split: bool = True) -> OnnxModel:
    export_model(model, backbone, METADATA, folder, split_head=split)
    return OnnxModel(folder, provider="cpu", threads=1)


@pytest.fixture(scope="module")
def exported(backbone, tmp_path_factory: pytest.TempPathFactory) -> tuple[OnnxModel, OnnxModel]:
    """One random STA-Hands model exported split and unsplit."""
    torch.set_num_threads(1)
    model = random_model("pose", "motion", feature_dim=backbone.spec.feature_dim)
    folder = tmp_path_factory.mktemp("exported")
    return _export(model, backbone, folder / "split"), _export(
        model, backbone, folder / "unsplit", split=False
    )


@pytest.mark.parametrize("make", [random_model, trained_model], ids=["random", "trained"])
def test_onnx_split_head_equals_pytorch_and_the_unsplit_export(make, backbone, tmp_path: Path) -> None:
    model = make("pose", "motion", feature_dim=backbone.spec.feature_dim)
    split = _export(model, backbone, tmp_path / "split")
    unsplit = _export(model, backbone, tmp_path / "unsplit", split=False)
    assert split.split and not unsplit.split
    assert {p.name for p in (tmp_path / "split").glob("*.onnx")} == {GLIMPSE_FILE, PROJECTION_FILE, HEAD_FILE}
    assert {p.name for p in (tmp_path / "unsplit").glob("*.onnx")} == {GLIMPSE_FILE, HEAD_FILE}
    assert split.head_feature_dim == 3 * model.config.rgb.hidden_size
    assert unsplit.head_feature_dim == model.config.feature_dim
    inputs = make_inputs(batch=3, seed=3, feature_dim=backbone.spec.feature_dim)
    features = (inputs.features * inputs.hand_mask[..., None]).numpy()
    with torch.no_grad():
        expected = model(*inputs)
    arrays = (features, inputs.hand_mask.numpy(), inputs.pose.numpy())
    for onnx_model in (split, unsplit):
        out = onnx_model.run_head(*arrays)
        _assert_same(expected, [out[name] for name in OUTPUTS], atol=1e-4)
    # the recognizer's path: each present hand's projection computed once, then the head on those
    flat = features.reshape(-1, features.shape[-1])
    projected = split.project(flat).reshape((*features.shape[:-1], split.head_feature_dim))
    direct = split.run_head_projected(projected, *arrays[1:])
    _assert_same([direct[name] for name in OUTPUTS], [split.run_head(*arrays)[n] for n in OUTPUTS], 1e-6)


class WidthsCache(GlimpseCache):
    """The glimpse cache, noting the width of every value put in it."""

    def __init__(self) -> None:
        super().__init__()
        self.widths: set[int] = set()

    def put(self, key, value) -> None:
        self.widths.add(len(value.value))
        super().put(key, value)


def test_the_recognizer_gives_the_same_prediction_split_or_not(exported) -> None:
    split, unsplit = exported
    window = moving_frames(20)
    cache = WidthsCache()
    first = classify_window(split, window, cache)
    again = classify_window(split, window, cache)  # every crop from the cache
    old = classify_window(unsplit, window)
    assert first.timings.crops_computed > 0 and again.timings.crops_computed == 0
    assert cache.widths == {split.head_feature_dim}  # the cache holds what the split head reads
    for prediction in (again, old):
        assert np.allclose(prediction.logits, first.logits, atol=1e-4)
        assert np.allclose(prediction.spatial_attention, first.spatial_attention, atol=1e-5)
        assert np.allclose(prediction.temporal_attention, first.temporal_attention, atol=1e-5)


def test_a_split_head_without_its_projection_is_refused_in_one_line(exported, tmp_path: Path) -> None:
    for name in (GLIMPSE_FILE, HEAD_FILE):  # a split folder copied without its projection
        shutil.copyfile(exported[0].folder / name, tmp_path / name)
    with pytest.raises(ModelError) as caught:
        OnnxModel(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / HEAD_FILE}: ") and "\n" not in message
    assert PROJECTION_FILE in message and "sta-hands export" in message


def test_a_concat_model_exports_unsplit_and_runs(backbone, tmp_path: Path) -> None:
    model = random_model("concat", "motion", feature_dim=backbone.spec.feature_dim)
    onnx_model = _export(model, backbone, tmp_path)
    assert not onnx_model.split and not (tmp_path / PROJECTION_FILE).exists()


def test_reexporting_unsplit_into_a_split_folder_drops_the_projection(backbone, tmp_path: Path) -> None:
    model = random_model("pose", "motion", feature_dim=backbone.spec.feature_dim)
    _export(model, backbone, tmp_path)
    assert not _export(model, backbone, tmp_path, split=False).split
    assert not (tmp_path / PROJECTION_FILE).exists()


def test_int8_variant_of_a_split_folder_keeps_its_projection_and_metadata(exported, tmp_path: Path) -> None:
    from sta_hands.export.make_demo import read_metadata

    shutil.copytree(exported[0].folder, tmp_path / "fp32")
    crops = np.random.default_rng(0).uniform(-1, 1, (16, 3, 32, 32)).astype(np.float32)
    int8 = OnnxModel(quantize_int8(tmp_path / "fp32", tmp_path / "int8", crops), threads=1)
    assert int8.split and int8.info.model_version == "test+int8"
    props = read_metadata(tmp_path / "int8")  # what make_demo compares: every file says the same
    assert set(props) == {GLIMPSE_FILE, PROJECTION_FILE, HEAD_FILE}
    assert len({tuple(sorted(p.items())) for p in props.values()}) == 1
    shutil.rmtree(tmp_path / "fp32")  # the variant stands alone
    assert int8.head_features(crops[:2]).shape == (2, int8.head_feature_dim)


def test_int8_gru_matrices_move_the_logits_a_little_and_the_attention_not_at_all(exported, tmp_path) -> None:
    """STA-Hands' attention reads the pose only: with the GRU's matrices in int8 it stays exact."""
    import onnx

    from sta_hands.export.quantize import quantize_gru_matrices

    float32 = exported[0]
    shutil.copytree(float32.folder, tmp_path / "int8")
    quantize_gru_matrices(tmp_path / "int8")
    for name in (PROJECTION_FILE, HEAD_FILE):
        ops = [node.op_type for node in onnx.load(str(tmp_path / "int8" / name)).graph.node]
        assert "MatMulInteger" in ops, name  # the RGB GRU's matrix is read as int8
    int8 = OnnxModel(tmp_path / "int8", threads=1)
    inputs = make_inputs(batch=3, seed=4, feature_dim=float32.info.feature_dim)
    arrays = ((inputs.features * inputs.hand_mask[..., None]).numpy(), *(a.numpy() for a in inputs[1:]))
    ours, theirs = float32.run_head(*arrays), int8.run_head(*arrays)
    for name in ("spatial_attention", "temporal_attention", "pose_logits"):
        assert np.allclose(ours[name], theirs[name], atol=1e-6), name
    change = np.abs(ours["rgb_logits"] - theirs["rgb_logits"]).max()
    assert 0 < change < 0.05 * np.abs(ours["rgb_logits"]).max(), change


def _optimised_head_nodes(window: int, folder: Path) -> int:
    """Nodes ONNX Runtime runs for a tiny STA-Hands head of `window` steps (after its fusions)."""
    import dataclasses

    import onnxruntime as ort

    from sta_hands.export.onnx import OPSET

    torch.manual_seed(0)
    model = TwoStreamModel(dataclasses.replace(tiny_config(), window=window)).eval()
    features, mask, pose = (tensor[:, :window] for tensor in make_inputs(batch=2, seed=1))
    with torch.no_grad():
        projected = GlimpseProjection(model)(features)
    path, optimised = folder / f"head-{window}.onnx", folder / f"optimised-{window}.onnx"
    names = list(PROJECTED_HEAD_INPUTS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's, and the pose GRU's note on batch sizes
        torch.onnx.export(
            ProjectedHead(model), (projected, mask, pose), str(path), input_names=names,
            output_names=list(OUTPUTS), dynamic_axes={name: {0: "B"} for name in names},
            opset_version=OPSET, dynamo=False,
        )  # fmt: skip
    options = ort.SessionOptions()
    options.log_severity_level = 3  # its note that an optimised file is for this machine only
    options.optimized_model_filepath = str(optimised)
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return len(onnx.load(str(optimised)).graph.node)


def test_each_recurrent_step_costs_at_most_12_nodes(tmp_path: Path) -> None:
    """ONNX Runtime pays for every node (a 1024-unit head's step is a few dozen microseconds of work):
    a step is one product, its bias, two splits, one Sigmoid over r and z, and six element-wise ops,
    with no shape arithmetic for the free batch (the first export form took 32 per step here)."""
    per_step = (_optimised_head_nodes(20, tmp_path) - _optimised_head_nodes(10, tmp_path)) / 10
    assert 10 <= per_step <= 12, per_step


def test_the_head_session_has_its_own_settings_and_computes_the_same(exported) -> None:
    from sta_hands.app.runtime import HeadSettings

    default = exported[0]
    options = default.head.get_session_options()
    assert "+int8" not in default.info.model_version  # float32 GRU matrices: one thread per core
    assert options.intra_op_num_threads == 0 and default.head_settings.threads == 0
    assert HeadSettings().resolved(int8_matrices=True).threads == 1  # int8 ones: one thread
    assert HeadSettings(threads=2).resolved(int8_matrices=True).threads == 2
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    spinning = OnnxModel(default.folder, threads=1, head_settings=HeadSettings(threads=2, spinning=True))
    options = spinning.head.get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"  # not between runs
    assert spinning.glimpse.get_session_options().intra_op_num_threads == 1
    inputs = make_inputs(batch=2, seed=6, feature_dim=default.info.feature_dim)
    arrays = ((inputs.features * inputs.hand_mask[..., None]).numpy(), *(a.numpy() for a in inputs[1:]))
    ours, theirs = default.run_head(*arrays), spinning.run_head(*arrays)
    for name in OUTPUTS:
        assert np.allclose(ours[name], theirs[name], atol=1e-6), name
