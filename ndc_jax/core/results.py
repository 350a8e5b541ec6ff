"""Results on disk: atomic writes of JSON, JSON lines, CSV tables and pytrees.

Every write goes to a temporary file in the target's folder and is renamed
over the target, so an interrupted run never leaves a half-written file; the
file gets the mode a plain `open(path, "w")` would (0o666 less the umask),
not the temporary file's 0o600.
Pytrees (parameters, training states) are stored as `.npz` of their leaves in
`jax.tree` order; PRNG keys are stored as their raw key data.
"""

import csv
import io
import json
import os
import tempfile
from typing import Any, Iterable, Sequence

import jax
import numpy as np


def _umask() -> int:
  """The process's umask, read without changing it where Linux says it."""
  try:
    with open("/proc/self/status") as f:
      for line in f:
        if line.startswith("Umask:"):
          return int(line.split()[1], 8)
  except OSError:
    pass
  mask = os.umask(0o022)  # elsewhere reading sets it: put it back at once
  os.umask(mask)
  return mask


def atomic_write(path: str, data: bytes) -> None:
  """Writes bytes to `path` atomically (temp file in the same folder, rename)
  with mode 0o666 less the umask."""
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
  try:
    with os.fdopen(fd, "wb") as f:
      os.fchmod(f.fileno(), 0o666 & ~_umask())
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except BaseException:
    os.unlink(tmp)
    raise


def write_json(path: str, obj: Any) -> None:
  atomic_write(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())


def write_jsonl(path: str, rows: Iterable[dict]) -> None:
  atomic_write(path, "".join(json.dumps(r, sort_keys=True) + "\n"
                             for r in rows).encode())


def read_jsonl(path: str) -> list[dict]:
  if not os.path.exists(path):
    return []
  with open(path) as f:
    return [json.loads(line) for line in f if line.strip()]


def write_csv(path: str, rows: Sequence[dict], columns: Sequence[str]) -> None:
  """A CSV table with a header row; floats with 6 significant digits."""
  buf = io.StringIO()
  w = csv.writer(buf, lineterminator="\n")
  w.writerow(columns)
  for r in rows:
    w.writerow([f"{r[c]:.6g}" if isinstance(r[c], float) else r[c]
                for c in columns])
  atomic_write(path, buf.getvalue().encode())


def read_csv(path: str) -> list[dict]:
  with open(path) as f:
    return list(csv.DictReader(f))


def _to_numpy(leaf) -> np.ndarray:
  if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
    leaf = jax.random.key_data(leaf)
  return np.asarray(leaf)


def save_tree(path: str, tree: Any, **extra: np.ndarray) -> None:
  """Saves a pytree's leaves (and named extra arrays) to an `.npz`."""
  leaves = jax.tree.leaves(tree)
  arrays = {f"leaf_{i:05d}": _to_numpy(l) for i, l in enumerate(leaves)}
  arrays.update({f"extra_{k}": np.asarray(v) for k, v in extra.items()})
  buf = io.BytesIO()
  np.savez(buf, **arrays)
  atomic_write(path, buf.getvalue())


def load_tree(path: str, like: Any) -> tuple[Any, dict[str, np.ndarray]]:
  """Restores a pytree saved by `save_tree`, with the structure of `like`.

  Returns (tree, extras). Raises ValueError if the file does not match.
  """
  leaves, treedef = jax.tree.flatten(like)
  with np.load(path) as f:
    stored = sorted(k for k in f.files if k.startswith("leaf_"))
    if len(stored) != len(leaves):
      raise ValueError(f"{path} holds {len(stored)} arrays but the model has "
                       f"{len(leaves)}: it was written by another config")
    out = []
    for name, ref in zip(stored, leaves):
      arr = f[name]
      if jax.dtypes.issubdtype(ref.dtype, jax.dtypes.prng_key):
        out.append(jax.random.wrap_key_data(arr))
        continue
      if arr.shape != ref.shape:
        raise ValueError(f"{path}: array {name} has shape {arr.shape}, the "
                         f"model expects {ref.shape}")
      out.append(jax.numpy.asarray(arr, ref.dtype))
    extras = {k[len("extra_"):]: f[k] for k in f.files
              if k.startswith("extra_")}
  return jax.tree.unflatten(treedef, out), extras
