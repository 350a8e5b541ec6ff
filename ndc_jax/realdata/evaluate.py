"""Held-out evaluation of trained multi-source models on real data.

Per model (params batched on axis 0) and source i, on held-out examples:
rates in bits per dimension of source i (BPD) — the VAE rate KL(q ‖ N(0, I))
/ dim_i, the operational estimate −log2 P(ŷ_i) / dim_i and the bits of a real
ANS bitstream / dim_i (`models.evaluate.measured_bpd`) of ŷ_i = round(g_i·μ_i)
— and distortions of the operational reconstruction x̂_i = D(ŷ / g), mapped
back to physical units (`protocol.Normalizer`):
  * images [p, p, C] in [0, 1]: `psnr_db` = 10·log10(1 / MSE) and `ms_ssim`
    (Wang et al. 2003) of the held-out region assembled from its
    non-overlapping tiles (`tiling.region`), with as many scales as the
    region's shorter side allows (`metrics.ms_ssim_scales`: side >= 11·2^(scales−1);
    five need 176 px); NaN below 11 px.
  * signals [channels, window]: `rmse` (signal units), `prd_pct` =
    100·sqrt(Σ(x − x̂)² / Σx²) and `prdn_pct` (mean removed), over all held-out
    samples of the source.
The held-out examples are non-overlapping tiles (`protocol.protocol_runs`),
coded as one ANS stream per source, so op_bpd is bits per unique pixel or
sample with the stream's side bits.
Columns without the _i suffix pool the sources (sums of rates; metrics of the
concatenated sources; mean MS-SSIM). `fid_i` is a Fréchet distance on the
features of `eval.feature_fn` ("module:function"), NaN when none is given.
Latency: network + rounding (no ANS) per example, µs, batched and batch 1.
Models without a VAE posterior (`trainer.has_posterior` False, the conv
codec) report NaN KL rates. Models with lone decoders (`trainer.decode_alone`)
also report the same streams decoded each without the other sources:
`alone_<metric>` (pooled) and `alone_<metric>_i`, and the side-information
gain at equal rate, `side_gain_db` = PSNR − alone PSNR (images) or
`side_gain_prd` = alone PRD − PRD (signals, % points; positive: the joint
decoder is better).
"""

import importlib
import time

import jax
import jax.numpy as jnp
import numpy as np

from ndc_jax.core import metrics
from ndc_jax.realdata import tiling
from ndc_jax.models import train as multisource
from ndc_jax.models import evaluate as multisource_eval

IMAGE_METRICS, SIGNAL_METRICS = ("psnr_db", "ms_ssim"), ("rmse", "prd_pct",
                                                         "prdn_pct")
SIDE_GAIN = {"psnr_db": "side_gain_db", "prd_pct": "side_gain_prd"}


def is_image(shape) -> bool:
  return len(shape) == 3


def _codec(trainer):
  def encode(params, xs):
    return multisource.quantized_latents(trainer, params,
                                         trainer.encode(params, xs))

  def decode(params, ys):
    return multisource.decode_latents(trainer, params, ys)

  posterior = getattr(trainer, "has_posterior", True)
  alone = getattr(trainer, "decode_alone", None)

  def rates(params, xs):
    post, ys = trainer.encode(params, xs), encode(params, xs)
    kl = [jnp.mean(multisource.gaussian_kl_bits(mu, ls)) if posterior
          else jnp.full((), jnp.nan) for mu, ls in post]
    est = multisource.latent_bits(params, ys)
    x_alone = alone(params, ys) if alone else None
    return (jnp.stack(kl), jnp.stack(est), jnp.stack(ys), decode(params, ys),
            x_alone)
  return jax.jit(encode), jax.jit(decode), jax.jit(jax.vmap(rates, (0, None)))


def _time_us(fn, *args, repeats: int) -> float:
  jax.block_until_ready(fn(*args))  # compile
  t0 = time.perf_counter()
  for _ in range(repeats):
    jax.block_until_ready(fn(*args))
  return 1e6 * (time.perf_counter() - t0) / repeats


def _feature_fn(spec: str):
  module, _, name = spec.partition(":")
  return getattr(importlib.import_module(module), name)


def region_metrics(regions: list, decoded: list) -> dict:
  """Per-source metrics (suffix _i) and pooled ones of assembled regions:
  images pool PSNR over both regions' pixels and average MS-SSIM; signals
  pool the channels of all sources."""
  row = {}
  for i, (x, xh) in enumerate(zip(regions, decoded)):
    row.update({f"{k}_{i + 1}": v for k, v in
                metrics.region_distortions(x, xh).items()})
  if np.ndim(regions[0]) == 3:
    cat = lambda rs: np.concatenate([np.asarray(r).reshape(-1) for r in rs])
    row["psnr_db"] = float(metrics.psnr(cat(regions),
                                        np.clip(cat(decoded), 0, 1),
                                        axis=None))
    row["ms_ssim"] = float(np.mean([row[f"ms_ssim_{i + 1}"]
                                    for i in range(len(regions))]))
  else:
    row.update(metrics.region_distortions(np.concatenate(regions, 0),
                                  np.concatenate(decoded, 0)))
  return row


def evaluate(trainer, params, heldout: dict, norm, eval_cfg) -> dict:
  """`evaluate_one` on every held-out set ({name: MultiSourceData}), sharing
  one set of compiled functions; returns {name: (metrics, reconstructions)}."""
  codec = _codec(trainer)
  return {name: evaluate_one(trainer, params, data, norm, eval_cfg, codec)
          for name, data in heldout.items()}


def evaluate_one(trainer, params, data, norm, eval_cfg, codec=None
                 ) -> tuple[dict, list]:
  """Rates, distortions, FID and latency of every model on held-out `data`.

  Returns ({name: [M] array}, reconstructions [M][N] of [num, dim] arrays in
  physical units).
  """
  xs = tuple(jnp.asarray(x) for x in norm.apply(data).sources)
  encode, decode, rates = codec or _codec(trainer)
  kl, est, ys, x_hat, x_alone = jax.tree.map(np.asarray, rates(params, xs))
  dims = np.asarray(trainer.source.dims, np.float64)
  out = {"kl_bpd": kl / dims, "op_est_bpd": est / dims,
         "op_bpd": multisource_eval.measured_bpd(trainer, params,
                                                 ys.astype(np.int32))}
  for name in ("kl_bpd", "op_bpd", "op_est_bpd"):
    out[f"{name}_sum"] = out[name].sum(1)
  out["op_bpd_mean"] = (out["op_bpd"] * dims).sum(1) / dims.sum()
  recon = [[norm.invert(i, x_hat[i][p]) for i in range(len(xs))]
           for p in range(kl.shape[0])]
  feature_fn = (_feature_fn(eval_cfg.feature_fn) if eval_cfg.feature_fn
                else None)
  per_model = []
  regions = [tiling.region(data, i) for i in range(len(xs))]
  alone = ([[norm.invert(i, x_alone[i][p]) for i in range(len(xs))]
            for p in range(kl.shape[0])] if x_alone is not None else
           [None] * kl.shape[0])
  for rec, rec_alone in zip(recon, alone):
    row = region_metrics(regions, [tiling.region(data, i, rec[i])
                                   for i in range(len(xs))])
    if rec_alone is not None:
      lone = region_metrics(regions, [tiling.region(data, i, rec_alone[i])
                                      for i in range(len(xs))])
      metric = "psnr_db" if "psnr_db" in lone else "prd_pct"
      row.update({f"alone_{k}": v for k, v in lone.items()
                  if k.startswith(metric)})
      sign = 1.0 if metric == "psnr_db" else -1.0
      row[SIDE_GAIN[metric]] = sign * (row[metric] - lone[metric])
    for i, (x, xh, shape) in enumerate(zip(data.sources, rec, data.shapes)):
      row[f"fid_{i + 1}"] = (metrics.frechet_distance(
          x.reshape((-1,) + tuple(shape)), xh.reshape((-1,) + tuple(shape)),
          feature_fn) if feature_fn else float("nan"))
    per_model.append(row)
  for k in per_model[0]:
    out[k] = np.asarray([r[k] for r in per_model])
  one = jax.tree.map(lambda a: np.asarray(a)[0], params)  # no eager jit
  reps = eval_cfg.latency_repeats
  ys0 = encode(one, xs)
  first = tuple(x[:1] for x in xs)
  n = xs[0].shape[0]
  out.update({
      "encode_us": np.full(kl.shape[0], _time_us(encode, one, xs,
                                                 repeats=reps) / n),
      "decode_us": np.full(kl.shape[0], _time_us(decode, one, ys0,
                                                 repeats=reps) / n),
      "encode_us_batch1": np.full(kl.shape[0], _time_us(
          encode, one, first, repeats=reps)),
      "decode_us_batch1": np.full(kl.shape[0], _time_us(
          decode, one, [y[:1] for y in ys0], repeats=reps))})
  return out, recon
