"""The Gaussian conditional entropy model of the scale hyperprior, and its
real bitstream (constriction's QuantizedGaussian).

Ballé, Minnen, Singh, Hwang, Johnston, "Variational image compression with a
scale hyperprior", ICLR 2018, Eq. 7: given the hyper-latent, each latent is
y ~ N(0, σ²) convolved with U(−½, ½), so an integer ŷ costs
−log2 [Φ((ŷ + ½)/σ) − Φ((ŷ − ½)/σ)] bits; the same mass is the density of
the noisy training proxy ỹ = y + u. σ is floored at SCALE_MIN (as in
CompressAI) in training and coding alike.

Shapes: y, σ [...] -> bits [...]; coding takes flat int arrays.
"""

import constriction
import jax
import jax.numpy as jnp
import numpy as np

SCALE_MIN = 0.11
MIN_MASS = 1e-9
RANGE_BITS = 64  # (lo, hi) of the coded symbols as two int32


def bits(y: jax.Array, scale: jax.Array) -> jax.Array:
  """−log2 P(y | σ) per element, the bin mass evaluated on the lower tail
  (by symmetry, |y|) for accuracy far from the mode."""
  s = jnp.maximum(scale, SCALE_MIN)
  a = jnp.abs(y)
  mass = (jax.scipy.special.ndtr((0.5 - a) / s)
          - jax.scipy.special.ndtr((-0.5 - a) / s))
  return -jnp.log2(jnp.maximum(mass, MIN_MASS))


def _model(lo: int, hi: int):
  return constriction.stream.model.QuantizedGaussian(lo, hi)


def _stds(scale: np.ndarray) -> np.ndarray:
  return np.maximum(np.asarray(scale, np.float64).reshape(-1), SCALE_MIN)


def encode(symbols: np.ndarray, scale: np.ndarray
           ) -> tuple[np.ndarray, int, int]:
  """ANS-codes integer latents under N(0, σ²) bins; symbols and σ of one
  shape. Returns (uint32 words, lo, hi); the stream costs
  32·len(words) + RANGE_BITS bits."""
  symbols = np.asarray(symbols, np.int64).reshape(-1)
  lo, hi = int(symbols.min()), int(symbols.max())
  hi = max(hi, lo + 1)
  coder = constriction.stream.stack.AnsCoder()
  coder.encode_reverse(symbols.astype(np.int32), _model(lo, hi),
                       np.zeros(symbols.size), _stds(scale))
  return coder.get_compressed(), lo, hi


def decode(words: np.ndarray, lo: int, hi: int, scale: np.ndarray
           ) -> np.ndarray:
  """Inverse of `encode`: int64 latents shaped like σ."""
  scale = np.asarray(scale)
  coder = constriction.stream.stack.AnsCoder(words)
  out = coder.decode(_model(lo, hi), np.zeros(scale.size), _stds(scale))
  return np.asarray(out, np.int64).reshape(scale.shape)
