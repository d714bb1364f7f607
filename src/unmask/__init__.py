"""Unmask: find out whether a picture or video of a person was manipulated, prove it,
get it taken down, and stop it spreading."""

import os
import sys

# Nothing leaves the machine. ONNX Runtime's Linux and macOS wheels (1.29 and later) send
# Microsoft telemetry and write a device id under ~/.cache/Microsoft unless this variable is set
# before onnxruntime is first imported (it is read once, at import). Its own
# `disable_telemetry_events()` was measured not to stop the lookups of
# mobile.events.data.microsoft.com. Set here, in the package's first module, so that every entry
# point (CLI, server, workers, `import unmask`) is covered; tests/test_zero_network.py checks it
# under strace. Not a default the user can flip: the promise is unconditional.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

ONNXRUNTIME_IMPORTED_FIRST = "onnxruntime" in sys.modules
"""True when a program imported onnxruntime before unmask, so the switch above came too late
for that process; `unmask.models` then warns once."""

__version__ = "0.1.0"
