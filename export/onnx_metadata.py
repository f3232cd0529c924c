"""An `.onnx` file's `metadata_props` (the ONNX contract's keys, `contract.onnx_contract`): read them
without loading external weights, and replace them all, for the exporter, the int8/fp16 variants and
`teach`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import onnx


def read_metadata(path: Path) -> dict[str, str]:
    """The file's metadata as a dict, its weights left unread."""
    return {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}


def write_metadata(path: Path, props: Mapping[str, str], *, check: bool = False) -> None:
    """Replace the file's metadata by `props` (with `check`: the model is checked before it is saved)."""
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    if check:
        onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
