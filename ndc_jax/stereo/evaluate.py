"""Evaluation of the stereo codec on the test pairs, beside classical codecs.

Every row is a mean over the N test pairs (Motorcycle: N = 1, its test
band; a benchmark: its test split), each view 1 coded as one image.
Learned rows (`learned_rows`): per grid point, each view 1 is
compressed to a real file (`bitstream.Coder`), decoded back with view 2,
its symbols checked against the encoder's, and measured:
  * bpp: 8 × file bytes / (H·W) — bits per pixel of the coded view, header
    included (`header_bits` apart); est_bpp: the entropy model's bits / (H·W);
  * psnr_db, ms_ssim: `core.metrics.region_distortions` (the function
    the real-data job's classical rows use; MS-SSIM with the scales the
    region's shorter side allows, `metrics.ms_ssim_scales`);
  * encode_ms / decode_ms: wall milliseconds per image (network and ANS,
    after a warm-up call that compiles), the median of `latency_repeats`
    on the first test image.
Classical rows (`classical_rows`): each view 1 coded alone by every codec
of `ndc_jax.baselines.image_codecs` over its quality sweep, the same
metrics averaged the same way (latency: the mean over the images).
`add_gaps`: per learned row, each codec's PSNR interpolated at the row's
bpp (no extrapolation), the best (`baseline_name`, `baseline_psnr_db`,
`gap_db`), JPEG 2000's (`jpeg2000_psnr_db`, `gap_jpeg2000_db`) and the
single-view arm's (`single_view_psnr_db`, `side_gain_db`: the gain of side
information at the decoder at equal rate).
"""

import time

import jax
import numpy as np

from ndc_jax.baselines import image_codecs
from ndc_jax.core import metrics
from ndc_jax.stereo import bitstream
from ndc_jax.stereo import data as stereo_data


def _median_s(fn, repeats: int) -> tuple[float, object]:
  out = fn()  # warm-up: compiles
  times = []
  for _ in range(repeats):
    t0 = time.perf_counter()
    out = fn()
    times.append(time.perf_counter() - t0)
  return float(np.median(times)), out


def _mean(rows: list[dict]) -> dict:
  """The per-key mean of per-image measurements."""
  return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def learned_rows(name: str, arm_cfg, trainer, params, grid, test_pairs,
                 repeats: int) -> tuple[list[dict], list[np.ndarray]]:
  """Rows and reconstructions [H, W, 3] of the first test image, for every
  grid point of one arm.

  Args:
    test_pairs: (view 1, view 2), float [N, H, W, 3] in [0, 1]; each view 1
      is coded as one image (decoded with its view 2), and a row holds the
      means over the N images of bpp, est_bpp, header_bits, psnr_db and
      ms_ssim; encode_ms / decode_ms are the first image's (median of
      `repeats` after a warm-up call).

  Raises:
    RuntimeError: a decoded symbol differs from the encoder's.
  """
  coder = bitstream.Coder(trainer.codec, arm_cfg.model.entropy)
  m = arm_cfg.model
  rows, recons = [], []
  for p in range(len(grid[0])):
    one = jax.tree.map(lambda a: np.asarray(a)[p], params)
    lmbda = float(grid[0][p])
    per_image = []
    for k, (x1, x2) in enumerate(zip(*test_pairs)):
      h, w = x1.shape[:2]
      if k == 0:
        enc_s, data = _median_s(lambda: coder.compress(one, x1, lmbda),
                                repeats)
        dec_s, dec = _median_s(lambda: coder.decompress(one, data, x2),
                               repeats)
        recons.append(np.clip(dec.image, 0.0, 1.0))
      else:
        data = coder.compress(one, x1, lmbda)
        dec = coder.decompress(one, data, x2)
      sym = coder.symbols(one, x1, lmbda)
      for key, v in sym.items():
        if not np.array_equal(v, dec.symbols[key]):
          raise RuntimeError(f"arm {name}, λ={lmbda:g}, test image {k}: "
                             f"decoded {key} differs from the encoder's "
                             "symbols")
      per_image.append({
          "bpp": 8.0 * len(data) / (h * w),
          "est_bpp": coder.estimated_bits(one, sym) / (h * w),
          "header_bits": 8.0 * bitstream.header_bytes(data),
          **metrics.region_distortions(x1, dec.image)})
    rows.append({
        "kind": "learned", "arm": name, "entropy": m.entropy,
        "fusion": m.fusion, "mi_estimator": m.mi_estimator, "lmbda": lmbda,
        "beta_mi": float(grid[1][p]), "seed": int(grid[2][p]),
        "setting": float("nan"), **_mean(per_image),
        "encode_ms": 1e3 * enc_s, "decode_ms": 1e3 * dec_s})
  return rows, recons


def psnr_db(x: np.ndarray, x_hat: np.ndarray) -> float:
  """PSNR of one image in dB (`region_distortions`)."""
  return metrics.region_distortions(x, x_hat)["psnr_db"]


def classical_rows(cfg, test_pairs) -> list[dict]:
  """Every codec of cfg.codecs × cfg.qualities[codec] on each view 1 of
  test_pairs (float [N, H, W, 3] in [0, 1]) alone: per codec and quality,
  the means over the N images of bpp, header_bits, psnr_db, ms_ssim,
  encode_ms and decode_ms (as `learned_rows`)."""
  images = [stereo_data.to_uint8(x1) for x1 in test_pairs[0]]
  out = []
  for codec in cfg.codecs:
    image_codecs.check_available(codec)
    for q in cfg.qualities[codec]:
      per_image = []
      for x1, image in zip(test_pairs[0], images):
        h, w = x1.shape[:2]
        coded = image_codecs.code_image(codec, image, q)
        per_image.append({
            "bpp": coded.bits / (h * w),
            "header_bits": 8.0 * coded.header_bytes,
            **metrics.region_distortions(
                x1, image_codecs.to_unit_float(coded.decoded, 3)),
            "encode_ms": 1e3 * coded.encode_s,
            "decode_ms": 1e3 * coded.decode_s})
      mean = _mean(per_image)
      out.append({
          "kind": "baseline", "arm": codec, "entropy": "", "fusion": "",
          "mi_estimator": "", "lmbda": float("nan"),
          "beta_mi": float("nan"), "seed": -1, "setting": float(q),
          "bpp": mean["bpp"], "est_bpp": float("nan"),
          "header_bits": mean["header_bits"], "psnr_db": mean["psnr_db"],
          "ms_ssim": mean["ms_ssim"], "encode_ms": mean["encode_ms"],
          "decode_ms": mean["decode_ms"]})
  return out


def interp_at(points: list[tuple[float, float]], rate: float) -> float:
  """The metric of (rate, metric) points interpolated at `rate`; NaN
  outside their rates (no extrapolation)."""
  if not points:
    return float("nan")
  r, v = np.asarray(sorted(points)).T
  return float(np.interp(rate, r, v)) if r[0] <= rate <= r[-1] else (
      float("nan"))


def add_gaps(rows: list[dict], baselines: list[dict]) -> None:
  """Adds the baseline, JPEG 2000 and single-view columns to learned rows
  (see the module docstring); a fused arm's single-view curve is the first
  arm with fusion 'none' and the same entropy model (NaN if none)."""
  curve = lambda pool, arm: [(r["bpp"], r["psnr_db"]) for r in pool
                             if r["arm"] == arm]
  codecs = sorted({b["arm"] for b in baselines})
  single = {}
  for r in rows:
    if r["fusion"] == "none":
      single.setdefault(r["entropy"], r["arm"])
  for r in rows:
    at = {c: interp_at(curve(baselines, c), r["bpp"]) for c in codecs}
    ok = {c: v for c, v in at.items() if np.isfinite(v)}
    best = max(ok, key=ok.get) if ok else ""
    r["baseline_name"] = best
    r["baseline_psnr_db"] = ok[best] if best else float("nan")
    r["gap_db"] = r["psnr_db"] - r["baseline_psnr_db"]
    r["jpeg2000_psnr_db"] = at.get("jpeg2000", float("nan"))
    r["gap_jpeg2000_db"] = r["psnr_db"] - r["jpeg2000_psnr_db"]
    alone = single.get(r["entropy"]) if r["fusion"] != "none" else None
    r["single_view_psnr_db"] = (interp_at(curve(rows, alone), r["bpp"])
                                if alone else float("nan"))
    r["side_gain_db"] = r["psnr_db"] - r["single_view_psnr_db"]


def jpeg2000_at_rate(x1: np.ndarray, bpp: float, tol: float = 0.02,
                     iters: int = 20):
  """JPEG 2000 of view 1 at `bpp` (bisection on its target PSNR until the
  file is within `tol` relative of the rate, or `iters` tries: the closest
  one). Returns (decoded float [H, W, 3], its bpp)."""
  image = stereo_data.to_uint8(x1)
  pixels = image.shape[0] * image.shape[1]
  lo, hi, best = 10.0, 70.0, None
  for _ in range(iters):
    mid = 0.5 * (lo + hi)
    coded = image_codecs.code_image("jpeg2000", image, mid)
    rate = coded.bits / pixels
    if best is None or abs(rate - bpp) < abs(best[1] - bpp):
      best = (coded, rate)
    if abs(rate - bpp) <= tol * bpp:
      break
    lo, hi = (mid, hi) if rate < bpp else (lo, mid)
  return image_codecs.to_unit_float(best[0].decoded, 3), best[1]
