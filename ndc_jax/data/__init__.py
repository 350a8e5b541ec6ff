"""Real correlated sources as batches (x_1, ..., x_N) for multi-source coding.

Modules: `stereo` (Middlebury left/right views), `physionet` (EEG EDF, ECG
WFDB, the MIT-BIH record 208 toy ECG), `splits` (contiguous splits and folds).
Every loader returns `MultiSourceData`, one per split.
"""

from typing import Any, Mapping, NamedTuple

import numpy as np


class MultiSourceData(NamedTuple):
  """N aligned sources, flattened for the model.

  Attributes:
    sources: N float32 arrays, `sources[i]` shaped [num_examples, dim_i];
      row k of every source is the same example (same region or time).
    shapes: N tuples, the example shape of each source before flattening
      (prod(shapes[i]) == dim_i), e.g. (patch, patch, 3) or (channels, window).
    meta: JSON-serialisable description: name, source, licence, citation,
      units, sample rate, split, ... (goes into the results' config.json).
    extras: per-example numpy arrays with leading axis num_examples (patch
      origins, window start samples, disparity validity, ...).
  """
  sources: tuple[np.ndarray, ...]
  shapes: tuple[tuple[int, ...], ...]
  meta: Mapping[str, Any]
  extras: Mapping[str, np.ndarray]

  @property
  def num_examples(self) -> int:
    return int(self.sources[0].shape[0])

  def unflatten(self, i: int) -> np.ndarray:
    """Source i reshaped to [num_examples, *shapes[i]] (for plotting)."""
    return self.sources[i].reshape((-1,) + tuple(self.shapes[i]))

  def take(self, index: np.ndarray) -> "MultiSourceData":
    """The examples at `index` (int array or boolean mask) of every source."""
    return MultiSourceData(
        sources=tuple(s[index] for s in self.sources),
        shapes=self.shapes,
        meta=self.meta,
        extras={k: v[index] for k, v in self.extras.items()})
