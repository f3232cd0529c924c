#!/usr/bin/env bash
# Run the fuzz tests of tests/robustness long: EXAMPLES hypothesis examples per test (default 5000).
#   scripts/fuzz_long.sh [EXAMPLES] [extra pytest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-5000}"
shift || true
STA_HANDS_FUZZ_EXAMPLES="$examples" exec python -m pytest -q -p no:cacheprovider \
    tests/robustness/test_fuzz_skeleton.py tests/robustness/test_fuzz_recording.py \
    tests/robustness/test_fuzz_xef.py "$@"
