"""The classical codecs of `ndc_jax.baselines` on the real-data held-out
regions, measured like the learned rows, and the learned rows' gaps to them.

`baseline_rows(cfg, train, heldout)` codes each held-out region (the
non-overlapping tiles of `tiling.region`, the same pixels and samples the
learned codecs code) once per codec and setting:
* images: each view alone with every codec of `cfg.image_codecs` over its
  quality sweep (`cfg.image_qualities[codec]`); rate = the file's bytes
  (headers included; `header_bits_i` apart) per dimension of the view;
* signals: each source with every transform of `cfg.signal_codecs` fitted on
  its train region, over quantizer steps `cfg.signal_steps` × the source's
  pooled train std; rate = ANS words + side bits per sample; plus a lossless
  row (`signal_codecs.lossless_bits` on the ADC codes, the file header's
  resolution `meta["source_adc_resolution"]` where the loader gives it) if
  `cfg.lossless`.
Distortions use `evaluate.region_metrics`, the learned rows' function.

`add_gaps(rows, baselines, metric)`: per learned row, each codec's metric
linearly interpolated at the row's rate (op_bpd_mean, within the codec's
measured rates, no extrapolation), the best of them (`baseline_name`,
`baseline_<metric>`) and the gap: `gap_db` = learned PSNR − baseline PSNR
(dB; negative: the learned codec is worse), `gap_prd` = learned PRD −
baseline PRD (% points; positive: worse).
"""

import time

import numpy as np

from ndc_jax.baselines import image_codecs, signal_codecs
from ndc_jax.realdata import evaluate as realdata_eval
from ndc_jax.realdata import tiling

HELDOUT_SPLITS = ("test", "heldout")
GAP = {"psnr_db": "gap_db", "prd_pct": "gap_prd"}
LOSSLESS = "lossless_flac_like"


def check_config(cfg, image: bool) -> None:
  """Raises ValueError naming a bad `config.baselines` field (a codec that
  is unknown or lacks a quality sweep, a quantizer step that is not a finite
  number > 0) and ImportError for a missing codec library — before the job
  writes or trains anything."""
  if image:
    for codec in cfg.image_codecs:
      if codec not in image_codecs.CODECS:
        raise ValueError(f"config.baselines.image_codecs: {codec!r} is "
                         f"unknown; allowed: {image_codecs.CODECS}")
      if not tuple(cfg.image_qualities.get(codec, ())):
        raise ValueError(f"config.baselines.image_qualities.{codec} is "
                         "missing or empty; give the codec's quality sweep")
      image_codecs.check_available(codec)
    return
  for transform in cfg.signal_codecs:
    if transform not in signal_codecs.TRANSFORMS:
      raise ValueError(f"config.baselines.signal_codecs: {transform!r} is "
                       f"unknown; allowed: {signal_codecs.TRANSFORMS}")
  if cfg.signal_codecs and not all(
      isinstance(m, (int, float)) and 0 < m < np.inf
      for m in cfg.signal_steps):
    raise ValueError(f"config.baselines.signal_steps="
                     f"{tuple(cfg.signal_steps)!r}; allowed: finite numbers "
                     "> 0 (quantizer steps in units of the train std)")


def _row(split, codec, setting, bits, dims, metrics, encode_s, decode_s,
         num, header_bits=None, fit_s=0.0) -> dict:
  n = len(bits)
  row = {"split": split, "kind": "baseline", "arm": codec,
         "mi_estimator": "", "lmbda": float("nan"), "beta_mi": float("nan"),
         "seed": -1, "setting": float(setting), "num_heldout": num,
         "train_s": fit_s,
         **{f"op_bpd_{i + 1}": bits[i] / dims[i] for i in range(n)},
         "op_bpd_sum": float(sum(b / d for b, d in zip(bits, dims))),
         "op_bpd_mean": float(sum(bits) / sum(dims)),
         "encode_us": 1e6 * encode_s / num, "decode_us": 1e6 * decode_s / num,
         **metrics}
  for i in range(n):
    row[f"header_bits_{i + 1}"] = (float("nan") if header_bits is None
                                   else header_bits[i])
  return row


def image_rows(cfg, split: str, data) -> list[dict]:
  """Every image codec × quality on each view of tiled `data`."""
  regions = [tiling.region(data, i) for i in range(len(data.sources))]
  out = []
  for codec in cfg.image_codecs:
    image_codecs.check_available(codec)
    for q in cfg.image_qualities[codec]:
      coded = [image_codecs.code_image(codec, image_codecs.to_uint8(r), q)
               for r in regions]
      decoded = [image_codecs.to_unit_float(c.decoded, r.shape[-1])
                 for c, r in zip(coded, regions)]
      out.append(_row(split, codec, q, [c.bits for c in coded],
                      [r.size for r in regions],
                      realdata_eval.region_metrics(regions, decoded),
                      sum(c.encode_s for c in coded),
                      sum(c.decode_s for c in coded), data.num_examples,
                      [8.0 * c.header_bytes for c in coded]))
  return out


def signal_rows(cfg, split: str, data, train) -> list[dict]:
  """Every signal transform × step on each source of tiled `data`, fitted on
  the tiled `train`; the lossless reference."""
  n = len(data.sources)
  regions = [tiling.region(data, i) for i in range(n)]
  train_regions = [tiling.region(train, i) for i in range(n)]
  dims = [r.size for r in regions]
  out = []
  for transform in cfg.signal_codecs:
    t0 = time.perf_counter()
    codecs = [signal_codecs.fit(transform, t, cfg.wavelet, cfg.levels,
                                cfg.dct_block) for t in train_regions]
    fit_s = time.perf_counter() - t0
    sigma = [float(np.std(t)) for t in train_regions]
    for m in cfg.signal_steps:
      t0 = time.perf_counter()
      coded = [signal_codecs.code_signal(c, r, m * s)
               for c, r, s in zip(codecs, regions, sigma)]
      code_s = time.perf_counter() - t0
      out.append(_row(split, transform, m, [c.bits for c in coded], dims,
                      realdata_eval.region_metrics(
                          regions, [c.decoded for c in coded]),
                      code_s, float("nan"), data.num_examples,
                      [float(signal_codecs.SIDE_BITS)] * n, fit_s))
  if cfg.lossless:
    t0 = time.perf_counter()
    res = data.meta.get("source_adc_resolution") or [None] * n
    bits = [signal_codecs.lossless_bits(r, q)[0]
            for r, q in zip(regions, res)]
    out.append(_row(split, LOSSLESS, 0, bits, dims,
                    realdata_eval.region_metrics(regions, regions),
                    time.perf_counter() - t0, float("nan"),
                    data.num_examples))
  return out


def baseline_rows(cfg, train, heldout: dict) -> list[dict]:
  """Baseline rows of the held-out sets named in HELDOUT_SPLITS."""
  out = []
  for split, data in heldout.items():
    if split not in HELDOUT_SPLITS:
      continue
    if tiling.is_image(data):
      out += image_rows(cfg, split, data)
    else:
      out += signal_rows(cfg, split, data, tiling.nonoverlapping(train))
  return out


def at_rate(points: list[dict], metric: str, rate_bpd: float) -> float:
  """One codec's `metric` at `rate_bpd` (bits per dimension): linear
  interpolation between its points' (op_bpd_mean, metric), NaN outside
  their rates (no extrapolation) or for no points."""
  if not points:
    return float("nan")
  rate, val = np.asarray(sorted((p["op_bpd_mean"], p[metric])
                                for p in points)).T
  if not rate[0] <= rate_bpd <= rate[-1]:
    return float("nan")
  return float(np.interp(rate_bpd, rate, val))


def add_gaps(rows: list[dict], baselines: list[dict], metric: str) -> None:
  """Adds baseline_name, baseline_<metric> and the gap (GAP[metric]) to each
  learned row of a held-out split, against the baselines of its run and
  split (NaN where no codec's rates bracket the row's rate)."""
  higher = metric == "psnr_db"
  for r in rows:
    best = (float("nan"), "")
    pool = [b for b in baselines if b["run"] == r["run"]
            and b["split"] == r["split"] and b["arm"] != LOSSLESS]
    for codec in sorted({b["arm"] for b in pool}):
      v = at_rate([b for b in pool if b["arm"] == codec], metric,
                  r["op_bpd_mean"])
      if np.isfinite(v) and (np.isnan(best[0]) or
                             (v > best[0] if higher else v < best[0])):
        best = (v, codec)
    r["baseline_name"], r[f"baseline_{metric}"] = best[1], best[0]
    r[GAP[metric]] = r[metric] - best[0]
