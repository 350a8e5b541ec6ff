"""Held-out regions coded once: non-overlapping tiles and their assembly.

Every codec, learned or classical, codes each held-out pixel or sample once,
so its bits per dimension are bits per unique pixel or sample:

* `nonoverlapping(data)` keeps a subset of the examples that tiles their
  region without overlap: image patches on a grid of patch-spaced rows and
  columns (greedy, top to bottom and left to right), signal windows with
  window-spaced starts (greedy in time). A stride or hop that divides the
  patch or window keeps a full tiling of the same extent.
* `region(data, i, values)` assembles source i's examples (or decoded
  versions of them, `values` [num, dim]) into the coded region: an image
  [rows·p, cols·p, C] of the kept tile rows and columns, or a signal
  [channels, windows·w] of the windows in time order. Tiles that are not
  adjacent in the scene (a fold block straddling two splits) are stacked
  side by side; learned and classical codecs code the same assembled region.
"""

import numpy as np

from ndc_jax.data import MultiSourceData


def _greedy(starts: np.ndarray, length: int) -> np.ndarray:
  """Sorted unique starts, each >= the previous kept one + length."""
  kept, end = [], None
  for s in np.unique(starts):
    if end is None or s >= end:
      kept.append(s)
      end = s + length
  return np.asarray(kept, np.int64)


def is_image(data: MultiSourceData) -> bool:
  return "origin_rc" in data.extras


def nonoverlapping(data: MultiSourceData) -> MultiSourceData:
  """The examples of `data` that tile its region once (see module doc)."""
  if is_image(data):
    p = data.shapes[0][0]
    rc = data.extras["origin_rc"].astype(np.int64)
    rows, cols = _greedy(rc[:, 0], p), _greedy(rc[:, 1], p)
    keep = np.isin(rc[:, 0], rows) & np.isin(rc[:, 1], cols)
    order = np.lexsort((rc[:, 1], rc[:, 0]))
    keep_idx = order[keep[order]]
    if len(keep_idx) != len(rows) * len(cols):
      raise ValueError(f"the {len(rows)}x{len(cols)} tile grid misses "
                       f"{len(rows) * len(cols) - len(keep_idx)} patches")
    return data.take(keep_idx)
  starts = data.extras["start_sample"].astype(np.int64)
  kept = _greedy(starts, data.shapes[0][1])
  order = np.argsort(starts, kind="stable")
  first = order[np.isin(starts[order], kept)]
  _, idx = np.unique(starts[first], return_index=True)
  return data.take(first[idx])


def region(data: MultiSourceData, i: int, values=None) -> np.ndarray:
  """Source i of tiled `data` (or `values` [num, dim_i] in its example
  order) assembled: image [H, W, C] or signal [channels, T]."""
  x = np.asarray(data.sources[i] if values is None else values)
  x = x.reshape((-1,) + tuple(data.shapes[i]))
  if is_image(data):
    rc = data.extras["origin_rc"]
    rows, cols = np.unique(rc[:, 0]), np.unique(rc[:, 1])
    p = data.shapes[i][0]
    if len(rows) * len(cols) != len(x):
      raise ValueError(f"{len(x)} patches do not tile a {len(rows)}x"
                       f"{len(cols)} grid; call nonoverlapping first")
    out = np.zeros((len(rows) * p, len(cols) * p, x.shape[-1]), x.dtype)
    for k, (r, c) in enumerate(rc):
      a, b = np.searchsorted(rows, r) * p, np.searchsorted(cols, c) * p
      out[a:a + p, b:b + p] = x[k]
    return out
  order = np.argsort(data.extras["start_sample"], kind="stable")
  return np.concatenate(list(x[order]), axis=-1)  # [channels, windows·w]
