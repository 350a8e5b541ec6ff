"""Test-time rates, distortions, MI and bounds of trained multi-source models.

Two rates per source i, in bits per dimension of that source (BPD):
  * the VAE rate KL(q(z_i|x_i) ‖ N(0, I)) / dim_i (distortion: the decoder fed
    posterior samples z ~ q, `mse_vae`);
  * the operational rate of ŷ_i = round(g_i·μ_i) under the learned
    factorized density: its estimate −log2 P(ŷ) / dim_i and the bits of a real
    ANS bitstream (constriction) / dim_i (distortion: decoder fed ŷ/g, `mse_op`).
Summed over sources they are bits per sample tuple (per sample pair for the
two-terminal source), comparable with `bounds.two_terminal_sum_rate_bits`.
"""

import jax
import jax.numpy as jnp
import numpy as np

from ndc_jax.core import entropy_model as em
from ndc_jax.core.units import LN2
from ndc_jax.models import train as multisource
from ndc_jax.theory import bounds

MI_CHUNK = 1000


def _evaluate_one(trainer, params, xs, key):
  k_z, k_mi = jax.random.split(key)
  dims = jnp.asarray(trainer.source.dims, jnp.float32)
  post = trainer.encode(params, xs)
  kl = jnp.stack([jnp.mean(multisource.gaussian_kl_bits(mu, ls))
                  for mu, ls in post]) / dims
  zs = [mu + jnp.exp(ls) * jax.random.normal(k, mu.shape) for (mu, ls), k in
        zip(post, jax.random.split(k_z, len(post)))]
  mse = lambda xh: jnp.stack([jnp.mean((x - h) ** 2) for x, h in zip(xs, xh)])
  ys = multisource.quantized_latents(trainer, params, post)
  op_est = jnp.stack(multisource.latent_bits(params, ys)) / dims
  # MI of posterior samples, averaged over chunks of MI_CHUNK examples.
  chunks = [z[: z.shape[0] // MI_CHUNK * MI_CHUNK].reshape(-1, MI_CHUNK,
                                                            z.shape[-1])
            for z in zs]
  ma = jnp.ones((len(trainer.terms),))
  per_chunk = jax.vmap(lambda c, k: sum(e for e, _, _ in trainer.mi_nats(
      params, list(c), k, ma)))(tuple(chunks), jax.random.split(
          k_mi, chunks[0].shape[0]))
  return {"kl_bpd": kl, "op_est_bpd": op_est,
          "mse_vae": mse(trainer.decode(params, zs)),
          "mse_op": mse(multisource.decode_latents(trainer, params, ys)),
          "mi_bits": jnp.mean(per_chunk) / LN2,
          "symbols": jnp.stack([y.astype(jnp.int32) for y in ys])}


def measured_bpd(trainer, params, symbols: np.ndarray) -> np.ndarray:
  """Bits of real ANS bitstreams (with their symbol range) / dim_i:
  symbols [M, N, S, m] -> [M, N]. Every stream is decoded back and must give
  its symbols exactly (a RuntimeError otherwise)."""
  out = np.zeros(symbols.shape[:2])
  for p in range(symbols.shape[0]):
    for i, dim in enumerate(trainer.source.dims):
      ent = jax.tree.map(lambda a: a[p], params["enc"]["entropy"][i])
      words, lo, hi = em.encode(ent, symbols[p, i])
      if not np.array_equal(em.decode(ent, words, lo, hi,
                                      symbols[p, i].shape), symbols[p, i]):
        raise RuntimeError(f"model {p}, source {i + 1}: the ANS stream does "
                           "not decode to its symbols")
      out[p, i] = (32.0 * len(words) + em.RANGE_BITS) / (symbols.shape[2] *
                                                          dim)
  return out


def evaluate(trainer, params, key, num_samples: int) -> dict[str, np.ndarray]:
  """Evaluates M models (params batched on axis 0) on one shared test set.

  Returns [M, N] arrays kl_bpd, op_est_bpd, op_bpd (measured), mse_vae, mse_op
  and [M] arrays of their sums (kl_bpd_sum, op_bpd_sum, op_est_bpd_sum),
  mi_bits; for the two-terminal Gaussian source also the bounds at the
  achieved distortions and the gaps (bits per sample pair):
  two_terminal_op_bits, joint_op_bits, gap_op_bits, two_terminal_kl_bits,
  gap_kl_bits (NaN otherwise).
  """
  if num_samples < MI_CHUNK:
    raise ValueError(f"eval.num_samples={num_samples} must be >= {MI_CHUNK}")
  k_data, k_eval = jax.random.split(key)
  xs = trainer.source.sample(k_data, num_samples)
  out = jax.jit(jax.vmap(lambda p: _evaluate_one(trainer, p, xs, k_eval)))(
      params)
  out = jax.tree.map(np.asarray, out)
  out["op_bpd"] = measured_bpd(trainer, params, out.pop("symbols"))
  for name in ("kl_bpd", "op_bpd", "op_est_bpd"):
    out[f"{name}_sum"] = out[name].sum(axis=1)
  src, nan = trainer.source, np.full(out["mi_bits"].shape, np.nan)
  if src.rho is None or src.num_sources != 2:
    for name in ("two_terminal_op_bits", "joint_op_bits", "gap_op_bits",
                 "two_terminal_kl_bits", "gap_kl_bits"):
      out[name] = nan
    return out
  tt = lambda d: np.asarray(bounds.two_terminal_sum_rate_bits(
      d[:, 0], d[:, 1], src.rho, src.var, src.var))
  out["two_terminal_op_bits"] = tt(out["mse_op"])
  out["joint_op_bits"] = np.asarray(bounds.joint_gaussian_pair_rate_bits(
      out["mse_op"][:, 0], out["mse_op"][:, 1], src.rho, src.var, src.var))
  out["gap_op_bits"] = out["op_bpd_sum"] - out["two_terminal_op_bits"]
  out["two_terminal_kl_bits"] = tt(out["mse_vae"])
  out["gap_kl_bits"] = out["kl_bpd_sum"] - out["two_terminal_kl_bits"]
  return out
