"""A learned factorized density for quantized latents, and its real bitstream.

Ballé, Minnen, Singh, Hwang, Johnston, "Variational image compression with a
scale hyperprior", ICLR 2018, Sec. 2 and App. 6.1: each latent channel c has
its own density p_c; an integer ŷ costs −log2 P_c(ŷ) with the bin mass
P_c(ŷ) = F_c(ŷ + ½) − F_c(ŷ − ½). Training replaces rounding by additive
uniform noise ỹ = y + u, u ~ U(−½, ½) (Ballé et al., ICLR 2017, Sec. 2); the
same bin mass is the density of ỹ. Here F_c is a mixture of M logistics
(weights, means, log-scales per channel) instead of Ballé's monotone MLP: a
smooth, unimodal-to-multimodal family that is cheap and exact to tabulate.

Shapes: params leaves [C, M]; y [..., C] -> bits [..., C].
"""

import constriction
import jax
import jax.numpy as jnp
import numpy as np

MIN_MASS = 1e-9


def init_params(channels: int, components: int, spread: float = 2.0) -> dict:
  """Equal weights, means spread over [−spread, spread], unit scales."""
  means = jnp.linspace(-spread, spread, components) if components > 1 else (
      jnp.zeros((1,)))
  return {"logits": jnp.zeros((channels, components)),
          "means": jnp.tile(means, (channels, 1)),
          "log_scales": jnp.zeros((channels, components))}


def bin_mass(params: dict, y: jax.Array) -> jax.Array:
  """P_c(y) = F_c(y + ½) − F_c(y − ½), computed on the tail side for
  accuracy far from the mode; y [..., C] -> [..., C] in [MIN_MASS, 1]."""
  w = jax.nn.softmax(params["logits"], axis=-1)  # [C, M]
  inv_s = jnp.exp(-params["log_scales"])
  centered = y[..., None] - params["means"]  # [..., C, M]
  upper, lower = (centered + 0.5) * inv_s, (centered - 0.5) * inv_s
  flip = jnp.where(centered > 0, -1.0, 1.0)  # σ(u) − σ(l) = σ(−l) − σ(−u)
  mass = jnp.abs(jax.nn.sigmoid(flip * upper) - jax.nn.sigmoid(flip * lower))
  return jnp.maximum(jnp.sum(w * mass, axis=-1), MIN_MASS)


def bits(params: dict, y: jax.Array) -> jax.Array:
  """−log2 P_c(y) per element: y [..., C] -> bits [..., C]."""
  return -jnp.log2(bin_mass(params, y))


def noisy(key: jax.Array, y: jax.Array) -> jax.Array:
  """The training proxy of rounding: y + U(−½, ½)."""
  return y + jax.random.uniform(key, y.shape, y.dtype, -0.5, 0.5)


def quantize(y: jax.Array) -> jax.Array:
  """Test-time rounding to integers (as floats)."""
  return jnp.round(y)


def pmf_table(params: dict, lo: int, hi: int) -> np.ndarray:
  """[C, hi − lo + 1] float64 bin masses of the integers lo..hi per channel."""
  support = jnp.arange(lo, hi + 1, dtype=jnp.float32)[:, None]  # [S, 1]
  c = params["logits"].shape[0]
  table = bin_mass(params, jnp.broadcast_to(support, (support.shape[0], c)))
  return np.asarray(table, np.float64).T


RANGE_BITS = 64  # (lo, hi) as two int32


def encode(params: dict, symbols: np.ndarray
           ) -> tuple[np.ndarray, int, int]:
  """Entropy-codes integer latents [N, C] with ANS (constriction).

  The support is [lo, hi] = [min, max] of all symbols (at least two values,
  as constriction needs); the decoder gets (lo, hi) as two int32 (64 bits,
  `RANGE_BITS`, counted by the measured rate).

  Returns:
    (compressed uint32 words, lo, hi); len(words)·32 + RANGE_BITS is the
    measured bit count.
  """
  symbols = np.asarray(symbols, np.int64)
  lo = int(symbols.min())
  hi = max(int(symbols.max()), lo + 1)
  table = pmf_table(params, lo, hi)  # [C, S]
  n, c = symbols.shape
  coder = constriction.stream.stack.AnsCoder()
  probs = np.broadcast_to(table[None], (n, c, table.shape[1])).reshape(n * c, -1)
  coder.encode_reverse((symbols - lo).reshape(-1).astype(np.int32),
                       constriction.stream.model.Categorical(perfect=False),
                       np.ascontiguousarray(probs))
  return coder.get_compressed(), lo, hi


def decode(params: dict, words: np.ndarray, lo: int, hi: int, shape
           ) -> np.ndarray:
  """Inverse of `encode`: the integer latents [N, C]."""
  n, c = shape
  table = pmf_table(params, lo, hi)
  probs = np.broadcast_to(table[None], (n, c, table.shape[1])).reshape(n * c, -1)
  coder = constriction.stream.stack.AnsCoder(words)
  flat = coder.decode(constriction.stream.model.Categorical(perfect=False),
                      np.ascontiguousarray(probs))
  return flat.reshape(n, c).astype(np.int64) + lo
