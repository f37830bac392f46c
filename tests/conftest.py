"""Test-wide environment: offline hubs and no OpenMP spinning, set before torch is imported.

With 2 shared cores, OpenMP's busy-waiting made tiny training steps ~50x slower (DESIGN.md).
"""

import os

for key, value in {
    "OMP_WAIT_POLICY": "PASSIVE",
    "OMP_NUM_THREADS": "2",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "DVC_NO_ANALYTICS": "1",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(key, value)
