import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The repo root (for ``voting``) and this folder (for the pabutools reference
# helpers) must be importable however pytest was started.
for folder in (HERE.parents[1], HERE):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
