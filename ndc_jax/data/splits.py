"""Contiguous train/val/test splits and k-fold blocks over an index axis.

Correlated real data (image rows, time samples) leaks across a random split:
neighbouring rows or samples are nearly equal. So every split here is a set of
contiguous blocks of `range(n)`, where n counts the units being split (image
rows, time samples, or examples). Loaders split the raw axis first and cut
patches or windows inside each block, so no example straddles a boundary.

Guarantees (tested): the parts of a split, and the held-out blocks of the
folds, are pairwise disjoint and together cover `range(n)` exactly; in each
fold, train and held-out are disjoint and cover `range(n)`.
"""

from typing import Sequence

import numpy as np

SPLIT_NAMES = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


def _check_n(n: int, parts: int, what: str) -> int:
  if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
    raise ValueError(f"n={n!r} is invalid; it must be an int (the length of "
                     "the axis to split)")
  if n < parts:
    raise ValueError(f"n={n} is too small for {parts} {what}; each needs at "
                     f"least one index, so n must be >= {parts}")
  return int(n)


def split_slices(n: int,
                 fractions: Sequence[float] = DEFAULT_FRACTIONS
                 ) -> tuple[slice, ...]:
  """Contiguous slices of range(n), in order, with sizes ≈ fractions * n.

  Boundaries are round(n * cumsum(fractions)), so sizes differ from
  fractions * n by less than one index and the last slice ends at n.

  Args:
    n: length of the axis to split (rows, samples or examples).
    fractions: positive fractions summing to 1, e.g. (0.8, 0.1, 0.1) for
      train / val / test.

  Returns:
    len(fractions) slices, each non-empty, covering range(n) without overlap.

  Raises:
    ValueError: fractions not positive or not summing to 1; n too small for
      every part to get an index.
  """
  fractions = tuple(float(f) for f in fractions)
  if not fractions or any(not f > 0 for f in fractions):
    raise ValueError(f"fractions={fractions!r} is invalid; give one or more "
                     "fractions, each > 0")
  if abs(sum(fractions) - 1.0) > 1e-6:
    raise ValueError(f"fractions={fractions!r} sum to {sum(fractions)}; they "
                     "must sum to 1")
  n = _check_n(n, len(fractions), "split parts")
  bounds = np.round(n * np.cumsum((0.0,) + fractions)).astype(int)
  bounds[-1] = n
  if np.any(np.diff(bounds) < 1):
    raise ValueError(f"n={n} with fractions={fractions} leaves an empty part "
                     f"(boundaries {bounds.tolist()}); use a larger n or "
                     "larger fractions")
  return tuple(slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]))


def split_indices(n: int,
                  fractions: Sequence[float] = DEFAULT_FRACTIONS
                  ) -> tuple[np.ndarray, ...]:
  """`split_slices` as int64 index arrays (same contiguous parts)."""
  return tuple(np.arange(s.start, s.stop) for s in split_slices(n, fractions))


def named_split_slices(n: int,
                       fractions: Sequence[float] = DEFAULT_FRACTIONS
                       ) -> dict[str, slice]:
  """{"train", "val", "test"} -> contiguous slice, from three fractions."""
  if len(tuple(fractions)) != len(SPLIT_NAMES):
    raise ValueError(f"fractions={tuple(fractions)!r} must have "
                     f"{len(SPLIT_NAMES)} entries, one for each of "
                     f"{SPLIT_NAMES}")
  return dict(zip(SPLIT_NAMES, split_slices(n, fractions)))


def kfold_blocks(n: int, k: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
  """k-fold cross-validation over k contiguous blocks of range(n).

  Block j (sizes differ by at most one) is held out in fold j; the other
  blocks train. Train may border the held-out block on both sides; callers
  cutting windows must cut them inside each block (see module docstring).

  Args:
    n: length of the axis (rows, samples or examples).
    k: number of folds, an int >= 2.

  Returns:
    k pairs (train_idx, heldout_idx) of sorted int64 arrays.

  Raises:
    ValueError: k < 2 or n < k.
  """
  if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
    raise ValueError(f"k={k!r} is invalid; it must be an int >= 2")
  n = _check_n(n, int(k), "folds")
  edges = np.linspace(0, n, int(k) + 1).round().astype(int)
  everything = np.arange(n)
  folds = []
  for a, b in zip(edges[:-1], edges[1:]):
    heldout = everything[a:b]
    train = np.concatenate([everything[:a], everything[b:]])
    folds.append((train, heldout))
  return folds
