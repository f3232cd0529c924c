"""Synthetic clips in the exact NTU RGB+D layout: articulated people whose hands hold coloured objects.

Real NTU RGB+D cannot be shipped, so tests, the demo model and benchmarks train on clips made here and
written through the app's own recording writer (`recordings.own.recording`), so every reader and trainer runs
its real code on them.

The classes are chosen so that the paper's claims can be checked (see `ACTIONS`):

- motion groups whose classes share one motion generator and differ only in what the acting hand
  holds ("drink from cup" / "answer phone" / "touch head"; "reach holding ball" / "reach holding
  box"): a pose-only model is at chance inside a group, the hand crops decide;
- classes that differ in which hand acts ("wave left hand" / "wave right hand");
- two-person interactions ("give object", "handshake");
- classes that differ in body motion only ("squat", "bow").

The idle hand holds a random distractor object half of the time, so a model that sums the hands
cannot tell which object matters: the pose has to point at the moving hand.

How a clip is made, top to bottom, module by module (each imports only the ones above it):

1. `camera`: Kinect v2-like pinhole models, the three NTU cameras (0, +45, -45 degrees about the
   vertical axis) and `project`.
2. `plan`: the class table `ACTIONS`; `plan_clips` names clips `SsssCcccPpppRrrrAaaa` (class
   innermost, then camera, then performer).
3. `figure`: each person is a `Track` of pose parameters per frame (pelvis drop, trunk pitch, hand
   goals); `pose_skeleton` turns it into Kinect v2's 25 joints by forward and two-bone inverse
   kinematics.
4. `motions`: the named motion generators that fill the tracks.
5. `look`: the clip's background and clothes.
6. `scene`: `simulate_clip` draws everything from ``np.random.default_rng([seed, clip index])``, split
   into independent streams: the motion stream does not depend on the class inside a motion group,
   so two clips of one group with the same index have identical skeletons. It places the people,
   rotates the scene for camera 1/2/3 and projects it like a Kinect v2.
7. `render`: `render_image` draws each frame with OpenCV primitives over the clip's background.
8. `dataset`: `write_clip` writes a clip through `RecordingWriter`; `generate_dataset` does many in a
   process pool.

This package re-exports what other code uses; the rest lives in the modules above.
"""

from sta_hands.recordings.synthetic.camera import (
    CAMERA_YAW_DEG,
    COLOR_C,
    COLOR_F,
    DEPTH_C,
    DEPTH_F,
    Camera,
    project,
)
from sta_hands.recordings.synthetic.dataset import (
    JPEG_QUALITY,
    created_timestamp,
    generate_dataset,
    render_clip,
    write_clip,
)
from sta_hands.recordings.synthetic.figure import HEIGHT_RANGE_M, performer_height
from sta_hands.recordings.synthetic.motions import MOTIONS
from sta_hands.recordings.synthetic.plan import (
    ACTIONS,
    FPS,
    OBJECTS,
    SYNTHETIC_CLASSES,
    ActionClass,
    ClipSpec,
    plan_clips,
)
from sta_hands.recordings.synthetic.render import BALL_GREEN, BOX_BLUE, CUP_RED, PHONE_SCREEN, render_image
from sta_hands.recordings.synthetic.scene import GENERATOR_VERSION, MIN_FRAMES, SimulatedClip, simulate_clip

__all__ = [
    "ACTIONS",
    "BALL_GREEN",
    "BOX_BLUE",
    "CAMERA_YAW_DEG",
    "COLOR_C",
    "COLOR_F",
    "CUP_RED",
    "DEPTH_C",
    "DEPTH_F",
    "FPS",
    "GENERATOR_VERSION",
    "HEIGHT_RANGE_M",
    "JPEG_QUALITY",
    "MIN_FRAMES",
    "MOTIONS",
    "OBJECTS",
    "PHONE_SCREEN",
    "SYNTHETIC_CLASSES",
    "ActionClass",
    "Camera",
    "ClipSpec",
    "SimulatedClip",
    "created_timestamp",
    "generate_dataset",
    "performer_height",
    "plan_clips",
    "project",
    "render_clip",
    "render_image",
    "simulate_clip",
    "write_clip",
]
