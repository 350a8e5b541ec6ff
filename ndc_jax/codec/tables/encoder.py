"""A scalar encoder as a table of its float32 decision thresholds.

For a scalar source (n = 1) the learned encoder u(x) = argmax_k p_θ(k|x) is
piecewise constant in x, so it is a sorted list of switch points. `build`
evaluates the network on a uniform grid of `grid` points over [lo, hi] and,
in every grid interval whose end points get different indices, bisects over
the float32 values between them down to two adjacent floats; where the index
found there is not yet the right end's, it bisects the rest again. The table
then gives u(x) for every float32 x in [lo, hi] with one `np.searchsorted`
(tens of nanoseconds instead of the network's microseconds). A cell that lies
wholly inside one grid interval with the same index at both ends (narrower
than (hi − lo)/grid) is invisible to the grid; `build` returns the grid step
so that a caller can state it. Outside [lo, hi] `lookup` answers −1: the
caller evaluates the network there. Within a few ulps of a threshold, where
the top two logits tie to rounding, the network's own argmax can flip back
and forth; the table keeps one switch point there (on 10^6 draws of X, one
such index differed from the network for one of 15 trained models).

Shapes: x [N] float32; thresholds [S] float32 (increasing); labels [S + 1].
"""

from typing import Callable, NamedTuple

import numpy as np


class Table(NamedTuple):
  lo: np.float32          # the range the table answers for
  hi: np.float32
  thresholds: np.ndarray  # [S] float32: the first x of each new cell
  labels: np.ndarray      # [S + 1] int64: the index left of, then from, each
  step: float             # grid step: a narrower isolated cell may be missed


def _key(x: np.ndarray) -> np.ndarray:
  """float32 -> int64 with the same order (−0.0 just below +0.0)."""
  i = np.asarray(x, np.float32).view(np.int32).astype(np.int64)
  return np.where(i < 0, -(i & 0x7FFFFFFF) - 1, i)


def _float(k: np.ndarray) -> np.ndarray:
  """The inverse of `_key`."""
  k = np.asarray(k, np.int64)
  return np.where(k < 0, (-(k + 1)) | -0x80000000, k).astype(
      np.int32).view(np.float32)


def build(encode: Callable[[np.ndarray], np.ndarray], lo: float, hi: float,
          grid: int = 2**16) -> Table:
  """The threshold table of `encode` (x [B] float32 -> u [B] int) on [lo, hi].

  Raises ValueError unless lo < hi are finite and grid >= 2.
  """
  xs = grid_points(lo, hi, grid, "encoder table")
  us = np.asarray(encode(xs), np.int64)
  change = np.flatnonzero(us[1:] != us[:-1])
  # Open intervals: left has left_u; the switch lies in (left, right]; the
  # grid point `end` (index end_u) closes the grid interval.
  left, left_u = _key(xs[change]), us[change]
  end, end_u = _key(xs[change + 1]), us[change + 1]
  right = end
  found_k, found_u = [], []
  while left.size:
    while True:  # bisect every open interval at once, ~32 rounds
      open_ = right - left > 1
      if not open_.any():
        break
      mid = (left + right) // 2
      u_mid = np.asarray(encode(_float(mid[open_])), np.int64)
      same = np.zeros(left.size, bool)
      same[open_] = u_mid == left_u[open_]
      left = np.where(same, mid, left)
      right = np.where(open_ & ~same, mid, right)
    u_at = np.asarray(encode(_float(right)), np.int64)
    found_k.append(right)
    found_u.append(u_at)
    again = u_at != end_u  # another switch before the grid point: bisect it
    left, left_u = right[again], u_at[again]
    end, end_u = end[again], end_u[again]
    right = end
  keys = np.concatenate(found_k + [np.zeros(0, np.int64)])
  order = np.argsort(keys)
  labels_after = np.concatenate(found_u + [np.zeros(0, np.int64)])[order]
  return Table(xs[0], xs[-1], _float(keys[order]),
               np.concatenate([us[:1], labels_after]),
               float(xs[-1] - xs[0]) / (grid - 1))


def grid_points(lo: float, hi: float, grid: int, name: str) -> np.ndarray:
  """`grid` float32 points spaced uniformly over [lo, hi] (fewer where
  float32 cannot tell them apart), for the table called `name`.

  Raises ValueError unless lo < hi are finite and grid >= 2.
  """
  lo32, hi32 = np.float32(lo), np.float32(hi)
  if not (np.isfinite(lo32) and np.isfinite(hi32) and lo32 < hi32
          and grid >= 2):
    raise ValueError(f"{name} range [{lo}, {hi}] with grid={grid} is "
                     "invalid; allowed: finite lo < hi and grid >= 2")
  return np.unique(np.linspace(lo32, hi32, grid, dtype=np.float32))


def lookup(table: Table, x: np.ndarray) -> np.ndarray:
  """u(x) [N] int64 for x [N] float32; −1 where x lies outside [lo, hi]."""
  x = np.asarray(x, np.float32)
  u = table.labels[np.searchsorted(table.thresholds, x, side="right")]
  return np.where((x >= table.lo) & (x <= table.hi), u, -1)
