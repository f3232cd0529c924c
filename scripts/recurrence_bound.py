"""The floor under the RGB GRU's recurrence on this CPU: 20 dependent 1 x H by H x 3H products (what
each prediction's 20 steps must read of W_hh), in ONNX Runtime, float32 against dynamic int8 (7-bit
per-column weights, as `export.quantize` writes them), beside the bytes each pass reads; in a session
of the app's head settings (`app.runtime.HeadSettings`: one thread, not spinning) unless told otherwise.

    python scripts/recurrence_bound.py [--hidden 1024] [--threads 1] [--spinning]

Prints one JSON line. The head cannot be faster than this chain plus its small layers: in float32 the
chain reads 20 x 12.6 MB for 1024 units (from the last-level cache at best, once W_hh fits there).
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from sta_hands.app.runtime import HeadSettings, session_options

STEPS = 20


def chain_graph(hidden: int) -> onnx.ModelProto:
    """h_{t+1} = tanh((h_t W)[:, :H]) for STEPS steps, W of H x 3H: the recurrence's data dependence."""
    rng = np.random.default_rng(0)
    weight = (rng.standard_normal((hidden, 3 * hidden)) / np.sqrt(hidden)).astype(np.float32)
    constants = [
        numpy_helper.from_array(weight, "W"),
        numpy_helper.from_array(np.array([0], np.int64), "start"),
        numpy_helper.from_array(np.array([hidden], np.int64), "end"),
        numpy_helper.from_array(np.array([1], np.int64), "axis"),
    ]
    nodes, state = [], "h0"
    for t in range(STEPS):
        nodes += [
            helper.make_node("MatMul", [state, "W"], [f"gates{t}"]),
            helper.make_node("Slice", [f"gates{t}", "start", "end", "axis"], [f"reset{t}"]),
            helper.make_node("Tanh", [f"reset{t}"], [f"h{t + 1}"]),
        ]
        state = f"h{t + 1}"
    graph = helper.make_graph(
        nodes,
        "recurrence",
        [helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, hidden])],
        [helper.make_tensor_value_info(state, TensorProto.FLOAT, [1, hidden])],
        constants,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def chain_files(folder: Path, hidden: int) -> dict[str, Path]:
    """The chain in float32 and with int8 W (as `export.quantize` writes the GRU's), in `folder`."""
    fp32, int8 = folder / "chain-fp32.onnx", folder / "chain-int8.onnx"
    onnx.save(chain_graph(hidden), str(fp32))
    logging.disable(logging.WARNING)
    try:
        quantize_dynamic(
            str(fp32), str(int8), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True,
            extra_options={"DefaultTensorType": TensorProto.FLOAT},
        )  # fmt: skip
    finally:
        logging.disable(logging.NOTSET)
    return {"float32": fp32, "int8": int8}


def fastest_ms(path: Path, hidden: int, threads: int, spinning: bool = False, calls: int = 200) -> float:
    options = session_options(ort, threads, spinning)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feeds = {"h0": np.random.default_rng(1).standard_normal((1, hidden)).astype(np.float32)}
    for _ in range(5):
        session.run(None, feeds)
    best = float("inf")
    for _ in range(calls):
        started = time.perf_counter()
        session.run(None, feeds)
        best = min(best, time.perf_counter() - started)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument(
        "--threads", type=int, default=HeadSettings().resolved(int8_matrices=True).threads,
        help="intra-op threads (default: the app's head session with int8 GRU matrices)",
    )  # fmt: skip
    parser.add_argument("--spinning", action="store_true", help="pool threads spin during a run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        files = chain_files(Path(folder), args.hidden)
        weight_mb = args.hidden * 3 * args.hidden / 1e6
        print(
            json.dumps(
                {
                    "hidden": args.hidden,
                    "threads": args.threads,
                    "steps": STEPS,
                    "spinning": args.spinning,
                    "float32_ms": fastest_ms(files["float32"], args.hidden, args.threads, args.spinning),
                    "int8_ms": fastest_ms(files["int8"], args.hidden, args.threads, args.spinning),
                    "float32_mb_per_step": 4 * weight_mb,
                    "int8_mb_per_step": weight_mb,
                }
            )
        )


if __name__ == "__main__":
    main()
