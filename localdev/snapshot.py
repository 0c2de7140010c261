"""A snapshot of the demo data's moto state, built once and reused while its inputs are unchanged.

After the demo data is loaded and its stream records delivered, the DynamoDB backend's tables (items, indexes,
stream shards) and the demo's result (tokens, the banner's examples) are pickled to
``.localdev/demo-<key>.pickle`` (git-ignored). The key is a hash of everything the data depends on: the demo's
size and seed, today's date (the declarations follow the clock), the moto version, and the source of the
product, ``localdev`` and ``data/demo-cohort``. A later start with the same key loads the tables instead of
building them; any change to the code or the data builds afresh. The file is written by this module on this
machine and read only from there (pickle is not for files of unknown origin). ``DEMO_SNAPSHOT=0`` switches it
off.
"""

from __future__ import annotations

import hashlib
import pickle
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from localdev.stack import PROJECT_DIR, REGION

SNAPSHOT_DIR = PROJECT_DIR / ".localdev"
INPUTS = ("chalicelib", "localdev", "data/demo-cohort", "app.py", ".chalice/config.json")
KEEP = 3  # snapshots kept (older ones are deleted)


def key(schools: int, today: date) -> str:
    import moto

    digest = hashlib.sha256(f"{schools}|{today.isoformat()}|{moto.__version__}".encode())
    for name in INPUTS:
        root = PROJECT_DIR / name
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(PROJECT_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def path_for(snapshot_key: str) -> Path:
    return SNAPSHOT_DIR / f"demo-{snapshot_key}.pickle"


def _backend() -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]


def save(path: Path, demo_result: Any, drained: int) -> None:
    """Write the tables and the demo's result (atomically: a half-written file is never read)."""
    from localdev import motolock

    path.parent.mkdir(exist_ok=True)
    with motolock._lock:
        data = pickle.dumps({"tables": _backend().tables, "result": demo_result, "drained": drained}, protocol=5)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as out:
        out.write(data)
    Path(out.name).replace(path)
    for old in sorted(path.parent.glob("demo-*.pickle"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
        old.unlink(missing_ok=True)


def restore(path: Path) -> tuple[Any, int] | None:
    """Replace the backend's tables with the snapshot's; (demo result, stream records it had delivered), or None."""
    if not path.is_file():
        return None
    try:
        data = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, written by save() on this machine
    except Exception:  # noqa: BLE001 - an unreadable snapshot is rebuilt
        path.unlink(missing_ok=True)
        return None
    from localdev import motolock

    with motolock._lock:
        backend = _backend()
        backend.tables.clear()
        backend.tables.update(data["tables"])
    return data["result"], int(data["drained"])
