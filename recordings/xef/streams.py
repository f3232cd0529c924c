"""What the streams of an .xef file are: their data-type GUIDs (xef-format.md 5), a declared stream
(`XefStream`) and where one stream's events lie in the file (`Events`).

GUIDs are matched, never stream names; each repeats its tag from docs/xef-format.md ([C2] two
independent sources, [C1] KinectXEFTools only, [MS] Microsoft's published source).
"""

from __future__ import annotations

import array
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

FLAG_COMPRESSED = 0x0001  # [C1] stream flag bit 0: payloads are zlib streams (archived files)

COLOR_UNCOMPRESSED = uuid.UUID("2ba0d67d-be11-4534-9444-3fb21ae0f08b")  # [C1]
COLOR_COMPRESSED = uuid.UUID("0a3914dc-3b16-11e1-aac3-001e4fd58c0f")  # [C1]
BODY = uuid.UUID("a0c45179-5168-4875-a75c-f8f1760f637c")  # [C1]
CALIBRATION = uuid.UUID("8f78ca9c-c1c0-4673-8e51-36484f7e7492")  # [MS] Kinect-Studio-Sample Temp.cs
PROPERTIES = uuid.UUID("8083a32f-d7b4-449b-99b9-44c6fcd97570")  # [C1]
STREAM_KINDS: dict[uuid.UUID, str] = {
    COLOR_UNCOMPRESSED: "color (uncompressed YUY2)",
    COLOR_COMPRESSED: "color (compressed JPEG)",
    BODY: "body",
    CALIBRATION: "calibration",
    PROPERTIES: "properties",
    uuid.UUID("0a3914d6-3b16-11e1-aac3-001e4fd58c0f"): "depth",  # [C1]
    uuid.UUID("0a3914d7-3b16-11e1-aac3-001e4fd58c0f"): "ir",  # [C1]
    uuid.UUID("7e06d98e-d271-4a1f-9bfd-6648a700db75"): "long-exposure ir",  # [C1]
    uuid.UUID("0a3914e2-3b16-11e1-aac3-001e4fd58c0f"): "raw ir",  # [C1]
    uuid.UUID("df82ffac-b533-4438-954a-686a1e20f4aa"): "body index",  # [C1]
    uuid.UUID("787c7abd-9f6e-4a85-8d67-6365ff80cc69"): "title audio",  # [C2]
    uuid.UUID("0a3914d0-3b16-11e1-aac3-001e4fd58c0f"): "system info",  # [MS]
    uuid.UUID("0a3914e9-3b16-11e1-aac3-001e4fd58c0f"): "sensor telemetry",  # [MS]
    uuid.UUID("70b325ba-5819-4c8b-8037-2ece5cbb7467"): "colour settings",  # [MS]
    uuid.UUID("f5280e6e-229c-49ec-a8d2-b06f7ad64311"): "opaque",  # [MS]
    uuid.UUID("9ea644f5-3639-42bc-b325-d2d42cd79b15"): "system audio",  # [MS]
}
COLOR_ENCODINGS = {COLOR_UNCOMPRESSED: "YUY2", COLOR_COMPRESSED: "JPEG"}


@dataclass(frozen=True)
class XefStream:
    """One declared stream: its index, name, data-type GUID (what it holds) and event count."""

    index: int
    name: str
    type_guid: uuid.UUID
    instance_guid: uuid.UUID | None  # from the GUID record after the name record, when present
    tag_size: int  # bytes of tag before each event's payload (4: the sensor's frame number)
    compressed: bool  # archived file: each payload is a zlib stream
    events: int
    declared_at: int  # byte offset of the name record

    @property
    def kind(self) -> str:
        return STREAM_KINDS.get(self.type_guid, "unknown")

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index, "name": self.name, "kind": self.kind, "type_guid": str(self.type_guid),
            "instance_guid": None if self.instance_guid is None else str(self.instance_guid),
            "tag_size": self.tag_size, "compressed": self.compressed, "events": self.events,
            "declared_at": self.declared_at,
        }  # fmt: skip


@dataclass
class DeclaredStream:
    """A stream while the file is walked (the events are counted as they come); `frozen` is what the
    reader keeps."""

    index: int
    flags: int
    name: str
    type_guid: uuid.UUID
    instance_guid: uuid.UUID | None
    tag_size: int
    declared_at: int
    events: int = 0

    @property
    def compressed(self) -> bool:
        return bool(self.flags & FLAG_COMPRESSED)

    def frozen(self) -> XefStream:
        return XefStream(
            self.index,
            self.name,
            self.type_guid,
            self.instance_guid,
            self.tag_size,
            self.compressed,
            self.events,
            self.declared_at,
        )


class Events:
    """Where the events of one stream are: compact arrays (8 bytes per field), not objects."""

    def __init__(self) -> None:
        self.record = array.array("q")  # byte offset of the record header
        self.ticks = array.array("q")
        self.stored = array.array("q")
        self.raw = array.array("q")

    def add(self, record: int, ticks: int, stored: int, raw: int) -> None:
        self.record.append(record)
        self.ticks.append(ticks)
        self.stored.append(stored)
        self.raw.append(raw)

    def __len__(self) -> int:
        return len(self.record)

    def times(self) -> np.ndarray:
        """The ticks as an int64 array (a copy)."""
        return np.array(self.ticks, dtype=np.int64)
