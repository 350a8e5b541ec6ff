"""Real data sets of a config, the evaluation protocol and normalisation.

`load_splits(config.data)` calls the loaders of `ndc_jax.data` (Middlebury
stereo patches, PhysioNet EEG windows, local WFDB ECG windows) and returns
their contiguous train / val / test splits. `protocol_runs` turns them into
the runs of the protocol: ``split`` (train on train, report val and test) or
``kfold`` (k contiguous blocks of the split axis, image rows or time samples,
each held out once). In a fold an example trains only if it lies wholly
outside the held-out block and is held out only if it lies wholly inside, so
no pixel or sample is in both; examples straddling a block edge are dropped.
Every held-out set is then cut to non-overlapping tiles
(`tiling.nonoverlapping`), so each held-out pixel or sample is coded once.

`Normalizer`: per-channel (colour channel, lead) mean and std of the train
examples only; the model sees (x − mean) / std, metrics use physical units.
With `data.normalize='source'` the std is pooled over each source's
channels (means stay per channel), so a squared error in model units is the
physical one over a constant: what PRD, pooled over channels, weighs.
"""

from typing import NamedTuple

import numpy as np

from ndc_jax.realdata import tiling
from ndc_jax.data import MultiSourceData, physionet, splits, stereo

DATASETS = ("stereo_middlebury", "eeg_physionet", "ecg_wfdb")
NORMALIZE = ("channel", "source")
PROTOCOLS = ("split", "kfold")


def parse_groups(spec: str):
  """Channel groups from a string: a named grouping ("hemispheres",
  "limb_precordial", ...), "N" (N contiguous groups) or channel names with
  ',' within and ';' between groups, e.g. "C3,Fc3;C4,Fc4"."""
  spec = str(spec).strip()
  if spec.isdigit():
    return int(spec)
  if ";" in spec or "," in spec:
    return [[c.strip() for c in g.split(",") if c.strip()]
            for g in spec.split(";")]
  return spec


def load_splits(cfg) -> dict[str, MultiSourceData]:
  """{"train", "val", "test"} of a `data` config (see the dataset configs)."""
  frac, hop = tuple(cfg.fractions), cfg.get("hop") or None
  if cfg.name == "stereo_middlebury":
    pair = (stereo.load_middlebury_dir(cfg.path) if cfg.get("path")
            else stereo.load_motorcycle())
    return stereo.stereo_patches(pair, cfg.patch_size, cfg.color, frac,
                                 cfg.get("stride") or None)
  if cfg.name == "eeg_physionet":
    return physionet.load_eeg_mmi_windows(parse_groups(cfg.groups), cfg.window,
                                          hop=hop, fractions=frac)
  if cfg.name == "ecg_wfdb":
    if not cfg.get("path"):
      raise ValueError(
          "data.path is empty; ecg_wfdb reads a local PhysioNet WFDB database"
          ": give --config.data.path=/data/incart (a directory of <record>.hea"
          " + .dat, e.g. from `wget -r -N -c -np https://physionet.org/files/"
          "incartdb/1.0.0/`) and --config.data.record=I01")
    return physionet.load_wfdb_ecg(
        cfg.path, cfg.record, parse_groups(cfg.groups), cfg.window,
        name=cfg.get("dataset_name") or None, licence=cfg.licence,
        citation=cfg.citation, hop=hop, fractions=frac)
  raise ValueError(f"data.name={cfg.name!r} is unknown; allowed: {DATASETS}")


def _concat(parts) -> MultiSourceData:
  first = parts[0]
  meta = {k: v for k, v in first.meta.items()
          if k not in ("split", "rows", "samples")}
  return MultiSourceData(
      tuple(np.concatenate(s) for s in zip(*(p.sources for p in parts))),
      first.shapes, meta,
      {k: np.concatenate([p.extras[k] for p in parts]) for k in first.extras})


def extent(data: MultiSourceData) -> tuple[np.ndarray, np.ndarray]:
  """[start, stop) of each example on the split axis (rows or samples)."""
  if "origin_rc" in data.extras:  # image patches: rows
    start = data.extras["origin_rc"][:, 0].astype(np.int64)
    return start, start + data.shapes[0][0]
  start = data.extras["start_sample"].astype(np.int64)
  return start, start + data.meta["window"]


def protocol_runs(cfg, parts: dict[str, MultiSourceData]
                  ) -> list[tuple[str, MultiSourceData, dict]]:
  """[(run name, train data, {held-out name: data})] of a `protocol` config."""
  if cfg.name == "split":
    return [("split", parts["train"],
             {"val": tiling.nonoverlapping(parts["val"]),
              "test": tiling.nonoverlapping(parts["test"])})]
  if cfg.name != "kfold":
    raise ValueError(f"protocol.name={cfg.name!r} is unknown; allowed: "
                     f"{PROTOCOLS}")
  full = _concat([parts[n] for n in splits.SPLIT_NAMES])
  start, stop = extent(full)
  key = "rows" if "origin_rc" in full.extras else "samples"
  length = parts["test"].meta[key][1]
  runs = []
  for j, (_, held) in enumerate(splits.kfold_blocks(length, cfg.folds)):
    a, b = int(held[0]), int(held[-1]) + 1
    inside = (start >= a) & (stop <= b)
    outside = (stop <= a) | (start >= b)
    if inside.sum() < 2 or outside.sum() < 2:
      raise ValueError(f"protocol.folds={cfg.folds}: fold {j} (axis {a}:{b} "
                       f"of {length}) holds {int(inside.sum())} whole "
                       "examples; use fewer folds or smaller patches/windows")
    runs.append((f"fold{j}", full.take(outside),
                 {"heldout": tiling.nonoverlapping(full.take(inside))}))
  return runs


class Normalizer(NamedTuple):
  """Per-source flattened mean and std, each [dim_i] (per-channel values)."""
  mean: tuple[np.ndarray, ...]
  std: tuple[np.ndarray, ...]

  def apply(self, data: MultiSourceData) -> MultiSourceData:
    return data._replace(sources=tuple(
        ((x - m) / s).astype(np.float32)
        for x, m, s in zip(data.sources, self.mean, self.std)))

  def invert(self, i: int, x: np.ndarray) -> np.ndarray:
    return np.asarray(x) * self.std[i] + self.mean[i]


def fit_normalizer(train: MultiSourceData, mode: str = "channel"
                   ) -> Normalizer:
  """Statistics over examples and positions of each channel: images
  [p, p, C] -> per colour channel, signals [channels, window] -> per lead;
  `mode` 'source': one std per source (over its channels, around their
  channel means)."""
  if mode not in NORMALIZE:
    raise ValueError(f"data.normalize={mode!r} is unknown; allowed: "
                     f"{NORMALIZE}")
  means, stds = [], []
  for i, shape in enumerate(train.shapes):
    x = train.unflatten(i).astype(np.float64)
    # channel axis: last of an image [p, p, C], first of [channels, window]
    axes = {3: (0, 1, 2), 2: (0, 2)}.get(len(shape), tuple(range(x.ndim)))
    m, s = x.mean(axes, keepdims=True), x.std(axes, keepdims=True)
    if mode == "source":
      s = np.broadcast_to(np.sqrt(np.mean((x - m) ** 2)), s.shape)
    s = np.where(s > 0, s, 1.0)
    means.append(np.broadcast_to(m[0], shape).reshape(-1).astype(np.float32))
    stds.append(np.broadcast_to(s[0], shape).reshape(-1).astype(np.float32))
  return Normalizer(tuple(means), tuple(stds))
