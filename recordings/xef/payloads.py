"""The payloads of an .xef file's colour, body and Calibration events, decoded (xef-format.md 8).

Each constant repeats the tag of docs/xef-format.md that says how well it is known ([C2] two
independent sources, [C1] KinectXEFTools only, [MS] Microsoft's published source, [M] our measurement,
[H] our hypothesis):

- Colour is [C2]: 1920x1080 YUY2 (4,147,200 bytes) uncompressed, one JPEG compressed; Microsoft's
  default recording set stores JPEG colour [MS]. A JPEG's size is read from its header before OpenCV
  decodes it, so a payload claiming a huge image allocates nothing.
- The BODY_FRAME layout is [C1]. Bodies carry what the file has: tracking id, 25 camera-space joints,
  tracking states, orientations (reordered to NTU's w x y z) and lean; `depth_px` stays zero and hand
  states stay 0 ("unknown": the file's numbering is unresolved). Every field used is checked (tracked
  flag, states, finite and plausible joints) so that a layout that differs gives a `RecordingError`
  naming the byte, never garbage.
- The file stores no colour pixels of joints [C2]: `ColorProjection` maps them with the pinhole we
  fitted on NTU files [M] (xef-format.md 10). The Calibration stream's layout is private; only its
  hypothesised parameter block is probed (`calibration_offsets`).
- Archived files store each payload as a zlib stream [C1]; `inflate` never allocates more than the
  record says.
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from sta_hands.contract.errors import RecordingError
from sta_hands.contract.frame import COLOR_SIZE, INFERRED, JOINT_NAMES, NOT_TRACKED, NUM_JOINTS, Body
from sta_hands.recordings.jpeg import JpegHeaderError, jpeg_size
from sta_hands.recordings.xef.streams import BODY, COLOR_COMPRESSED, COLOR_UNCOMPRESSED

ZLIB_FIRST_BYTE = 0x78  # [C1] archived payloads are zlib streams; other codecs are possible [H]

COLOR_WIDTH, COLOR_HEIGHT = COLOR_SIZE  # [C2] 1920x1080 for both encodings
YUY2_SIZE = COLOR_WIDTH * COLOR_HEIGHT * 2  # [C2] 4,147,200 bytes, byte order Y0 U Y1 V
MIN_JPEG_SIZE = 128  # [H] far below any 1920x1080 JPEG (a black one at quality 1 is 33 KB)
MAX_JPEG_SIZE = 16 << 20  # [H] 4x the largest 1920x1080 JPEG we made (noise at quality 100: 4.1 MB)

BODY_FRAME_SIZE = 6288  # [C1] believed size of the native BODY_FRAME struct
BODY_FRAME_MIN_SIZE = 6276  # [C1] the fields up to the frame quality flags
BODY_SLOTS = 6  # [C1] and the SDK's BODY_COUNT [MS]
BODY_SLOTS_AT = 32  # [C1] after the floor clip plane and the "up" vector
BODY_SLOT_SIZE = 1040  # [C1]
SLOT_POSITIONS_AT = 0  # [C1] 25 x (x, y, z, w) float32, camera space, metres
SLOT_ORIENTATIONS_AT = 400  # [C1] 25 x (x, y, z, w) float32 quaternions
SLOT_STATES_AT = 800  # [C1] 25 x i32 tracking state, 0 not tracked, 1 inferred, 2 tracked
SLOT_TRACKING_ID_AT = 1008  # [C1] u64
SLOT_TRACKED_AT = 1016  # [C1] u32, 0 or 1
SLOT_LEAN_AT = 1020  # [C1] 2 x float32
SLOT_LEAN_STATE_AT = 1032  # [C1] u32 tracking state of the lean
MIN_JOINT_Z, MAX_JOINT_Z = 0.3, 8.0  # [H] sanity range of a tracked or inferred joint (xef-format.md 8)

_SLOT = np.dtype(
    {
        "names": ["positions", "orientations", "states", "tracking_id", "tracked", "lean", "lean_state"],
        "formats": [
            ("<f4", (NUM_JOINTS, 4)),
            ("<f4", (NUM_JOINTS, 4)),
            ("<i4", (NUM_JOINTS,)),
            "<u8",
            "<u4",
            ("<f4", (2,)),
            "<u4",
        ],
        "offsets": [
            SLOT_POSITIONS_AT,
            SLOT_ORIENTATIONS_AT,
            SLOT_STATES_AT,
            SLOT_TRACKING_ID_AT,
            SLOT_TRACKED_AT,
            SLOT_LEAN_AT,
            SLOT_LEAN_STATE_AT,
        ],
        "itemsize": BODY_SLOT_SIZE,
    }
)

# ------------------------------------------------------------------- colour mapping (xef-format.md 10)

MAPPING_FITTED = "fitted projection (xef-format.md)"
MAPPING_GIVEN = "projection given by the caller"
CALIBRATION_SIZE = 1_736_836  # [C1] size of the one Calibration event KinectXEFTools' author saw
CALIBRATION_BLOCK = 132  # [H] 132 + 512 x 424 x 8 = 1,736,836: a parameter block, then an XY table
CALIBRATION_PATTERNS = {  # [H] libfreenect2's factory colour block (its issue #41) as float32
    "f 1081.37": bytes.fromhex("d72b8744"),
    "cx 959.5": bytes.fromhex("00e06f44"),
    "cy 539.5": bytes.fromhex("00e00644"),
    "shift_d 863": bytes.fromhex("00c05744"),
    "shift_m 52": bytes.fromhex("00005042"),
}


@dataclass(frozen=True)
class ColorProjection:
    """Camera space to colour pixels: u = fx (X + tx) / Z + cx, v = -fy Y / Z + cy (mirrored like the SDK)."""

    fx: float
    fy: float
    cx: float
    cy: float
    tx: float  # metres, the baseline between the depth and colour cameras

    def project(self, joints: np.ndarray) -> np.ndarray:
        """N x 2 pixels of N x 3 camera-space points; (0, 0) where Z <= 0 (not projectable)."""
        joints = np.asarray(joints, dtype=np.float64)
        z = joints[:, 2]
        valid = z > 0
        safe = np.where(valid, z, 1.0)
        u = self.fx * (joints[:, 0] + self.tx) / safe + self.cx
        v = -self.fy * joints[:, 1] / safe + self.cy
        return np.where(valid[:, None], np.stack([u, v], axis=1), 0.0)

    def as_dict(self) -> dict[str, float]:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "tx": self.tx}


# [M] pooled fit to the SDK's colour pixels in 8 NTU files: median error 0.4-0.7 px, worst 1.9 px.
FITTED_PROJECTION = ColorProjection(fx=1059.3, fy=1055.7, cx=959.8, cy=567.4, tx=0.0544)


def expected_payload_size(type_guid: uuid.UUID) -> tuple[int, int] | None:
    """Allowed unpacked payload sizes of the streams this reader decodes."""
    return {
        COLOR_UNCOMPRESSED: (YUY2_SIZE, YUY2_SIZE),
        COLOR_COMPRESSED: (MIN_JPEG_SIZE, MAX_JPEG_SIZE),
        BODY: (BODY_FRAME_MIN_SIZE, BODY_FRAME_SIZE),
    }.get(type_guid)


# ---------------------------------------------------------------------------------------- decoding


@dataclass(frozen=True)
class Where:
    """Where a payload sits, to name bytes in errors (an inflated payload has no file offsets)."""

    path: Path
    record: int
    payload: int | None  # file offset of the payload, None when it was inflated

    def error(self, offset: int, problem: str) -> RecordingError:
        if self.payload is not None:
            return RecordingError(self.path, problem, f"byte {self.payload + offset}")
        return RecordingError(
            self.path, f"{problem} (at byte {offset} of the inflated payload)", f"byte {self.record}"
        )


def inflate(where: Where, data: bytes, size: int) -> bytes:
    """A zlib payload inflated to exactly `size` bytes (never more is allocated)."""
    if not data or data[0] != ZLIB_FIRST_BYTE:
        found = data[:1].hex() or "nothing"
        raise where.error(
            0,
            f"expected a zlib stream (first byte 0x78), found 0x{found}: this archive "
            f"codec is not supported; unarchive the file with KSConvert",
        )
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, size)
        if len(out) < size:
            ending = "ends" if inflater.eof else "is cut short"
            raise where.error(0, f"the zlib stream {ending} after {len(out)} bytes, the record says {size}")
        if not inflater.eof and (inflater.decompress(inflater.unconsumed_tail, 1) or not inflater.eof):
            raise where.error(0, f"the zlib stream inflates to more than the {size} bytes the record says")
    except zlib.error as error:
        raise where.error(0, f"the zlib stream is corrupt: {error}") from None
    return out


def decode_color(where: Where, data: bytes, encoding: str, frame: int) -> np.ndarray:
    if encoding == "YUY2":
        yuy2 = np.frombuffer(data, np.uint8).reshape(COLOR_HEIGHT, COLOR_WIDTH, 2)
        return cv2.cvtColor(yuy2, cv2.COLOR_YUV2BGR_YUY2)
    try:  # the size first: OpenCV allocates what the header says before it reads a pixel
        size = jpeg_size(data)
    except JpegHeaderError as error:
        raise where.error(error.offset, f"frame {frame}: the JPEG colour payload is bad: {error}") from None
    if size != COLOR_SIZE:
        raise where.error(0, f"frame {frame}: the JPEG header says {size[0]}x{size[1]}, expected "
                          f"{COLOR_WIDTH}x{COLOR_HEIGHT} (xef-format.md 8); not decoded")  # fmt: skip
    try:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        image = None
    if image is None:
        raise where.error(0, "the JPEG colour payload does not decode")
    if image.shape != (COLOR_HEIGHT, COLOR_WIDTH, 3):
        raise where.error(
            0,
            f"the JPEG colour image is {image.shape[1]}x{image.shape[0]}, expected "
            f"{COLOR_WIDTH}x{COLOR_HEIGHT}",
        )
    return image


def decode_bodies(
    where: Where, data: bytes, projection: ColorProjection
) -> tuple[tuple[Body, ...], list[str]]:
    """The tracked bodies of one BODY_FRAME payload, in slot order (untracked slots are not read), and
    a note per inferred joint that was marked not tracked (its depth is implausible)."""
    slots = np.frombuffer(data, _SLOT, count=BODY_SLOTS, offset=BODY_SLOTS_AT)
    bodies: list[Body] = []
    notes: list[str] = []
    for slot in range(BODY_SLOTS):
        base = BODY_SLOTS_AT + slot * BODY_SLOT_SIZE
        tracked = int(slots[slot]["tracked"])
        if tracked not in (0, 1):
            raise where.error(
                base + SLOT_TRACKED_AT,
                f"body slot {slot}: the 'tracked' flag must be 0 or 1, found {tracked}",
            )
        if tracked:
            bodies.append(_body(where, slots[slot], slot, base, projection, notes))
    return tuple(bodies), notes


def _body(
    where: Where, record: np.void, slot: int, base: int, projection: ColorProjection, notes: list[str]
) -> Body:
    """One tracked slot as a `Body`, after checking every field it uses (xef-format.md 8 sanity checks)."""
    states = record["states"]
    _check_states(where, states, base, slot)
    joints = record["positions"][:, :3].astype(np.float64)
    orientation = record["orientations"].astype(np.float64)
    lean = record["lean"].astype(np.float64)
    _check_finite(where, joints, base + SLOT_POSITIONS_AT, slot, "position")
    _check_finite(where, orientation, base + SLOT_ORIENTATIONS_AT, slot, "orientation")
    if not np.isfinite(lean).all():
        raise where.error(base + SLOT_LEAN_AT, f"body slot {slot}: the lean is not finite")
    tracking = states.astype(np.uint8)
    for joint in _implausible_inferred(where, joints, states, base, slot):
        tracking[joint] = NOT_TRACKED  # the position stays as recorded
        notes.append(f"body slot {slot}: inferred joint {JOINT_NAMES[joint]} at z = {joints[joint, 2]:.3g} m")
    return Body(
        id=int(record["tracking_id"]),
        joints=joints,
        color_px=projection.project(joints),
        tracking=tracking,
        orientation=orientation[:, [3, 0, 1, 2]],  # stored x y z w; Body keeps w x y z like NTU
        lean=(float(lean[0]), float(lean[1])),
        lean_tracking=int(record["lean_state"]),
    )  # hand states stay 0 ("unknown"): the file's numbering is unresolved (xef-format.md 8)


def _check_states(where: Where, states: np.ndarray, base: int, slot: int) -> None:
    bad = np.flatnonzero((states < 0) | (states > 2))
    if bad.size:
        joint = int(bad[0])
        raise where.error(
            base + SLOT_STATES_AT + 4 * joint,
            f"body slot {slot}: joint {JOINT_NAMES[joint]} has tracking state {int(states[joint])}, "
            f"expected 0, 1 or 2",
        )


def _implausible_inferred(
    where: Where, joints: np.ndarray, states: np.ndarray, base: int, slot: int
) -> list[int]:
    """Inferred joints outside 0.3-8 m (the SDK's guesses can be wild: the caller marks them not tracked);
    a tracked one there means the body layout may differ, an error. Not-tracked joints may be anywhere."""
    z = joints[:, 2]
    outside = (states >= INFERRED) & ~((z > MIN_JOINT_Z) & (z < MAX_JOINT_Z))
    bad = np.flatnonzero(outside & (states > INFERRED))
    if bad.size:
        joint = int(bad[0])
        raise where.error(
            base + SLOT_POSITIONS_AT + 16 * joint + 8,
            f"body slot {slot}: joint {JOINT_NAMES[joint]} is at z = {z[joint]:.3g} m, expected "
            f"{MIN_JOINT_Z} to {MAX_JOINT_Z} m: the body layout may differ from xef-format.md 8",
        )
    return [int(joint) for joint in np.flatnonzero(outside)]


def _check_finite(where: Where, values: np.ndarray, at: int, slot: int, what: str) -> None:
    """Every row (a joint's 16-byte vector at `at` + 16 per joint) must be finite."""
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if bad.size:
        joint = int(bad[0])
        raise where.error(
            at + 16 * joint, f"body slot {slot}: the {what} of joint {JOINT_NAMES[joint]} is not finite"
        )


# ------------------------------------------------------------------------------------- calibration


def calibration_offsets(data: bytes) -> dict[str, int | None]:
    """Where each of libfreenect2's factory colour numbers sits in the hypothesised parameter block of a
    Calibration payload (4-byte aligned), or None: a probe, not a decoder (xef-format.md 8)."""
    block = data[:CALIBRATION_BLOCK]
    return {name: _aligned_find(block, pattern) for name, pattern in CALIBRATION_PATTERNS.items()}


def _aligned_find(block: bytes, pattern: bytes) -> int | None:
    """The first 4-byte-aligned offset of `pattern` in `block`, or None."""
    for offset in range(0, len(block) - len(pattern) + 1, 4):
        if block[offset : offset + len(pattern)] == pattern:
            return offset
    return None
