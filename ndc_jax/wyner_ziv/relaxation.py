"""Gumbel-max sampling, the Concrete (Gumbel-softmax) relaxation and the
Gibbs assignment of deterministic annealing.

References:
  Maddison, Mnih, Teh, "The Concrete Distribution", ICLR 2017.
  Jang, Gu, Poole, "Categorical Reparameterization with Gumbel-Softmax",
  ICLR 2017.
  Ozyilkan, Ballé, Erkip, "Neural Distributed Compressor Discovers Binning",
  ISIT 2023, Sec. III (the encoder p_θ(u|x) is trained through this relaxation).
  Rose, "Deterministic annealing for clustering, compression, classification,
  regression, and related optimization problems", Proc. IEEE 1998, Sec.
  III-C (the Gibbs assignment; the mass-constrained form weighs each
  codevector by its mass).

All functions are pure; temperatures are traced arguments so that they can be
annealed inside `lax.scan` and vmapped over.
"""

import jax
import jax.numpy as jnp

from ndc_jax.core.units import LN2


def gumbel_max_sample(key: jax.Array, logits: jax.Array) -> jax.Array:
  """Exact sample u ~ softmax(logits) by the Gumbel-max trick.

  Args:
    key: PRNG key.
    logits: [..., K] unnormalized log-probabilities (nats).

  Returns:
    int32 indices, shape [...].
  """
  g = jax.random.gumbel(key, logits.shape, logits.dtype)
  return jnp.argmax(logits + g, axis=-1)


def concrete_sample(key: jax.Array, logits: jax.Array, temperature: jax.Array,
                    straight_through: bool = False) -> jax.Array:
  """A Concrete (Gumbel-softmax) sample sharing its noise with the hard one.

  The relaxed sample is softmax((logits + g) / τ); its argmax is the Gumbel-max
  sample of the same noise g. With `straight_through`, the forward value is the
  hard one-hot and the gradient is that of the relaxed sample (Bengio et al.
  2013; Jang et al. 2017, Sec. 2.2).

  Args:
    key: PRNG key.
    logits: [..., K] logits (nats).
    temperature: scalar τ > 0 (traced).
    straight_through: static; hard forward pass with relaxed gradients.

  Returns:
    [..., K] float vectors on the probability simplex (one-hot when
    `straight_through`).
  """
  g = jax.random.gumbel(key, logits.shape, logits.dtype)
  soft = jax.nn.softmax((logits + g) / temperature, axis=-1)
  if not straight_through:
    return soft
  hard = jax.nn.one_hot(jnp.argmax(soft, axis=-1), logits.shape[-1],
                        dtype=soft.dtype)
  return soft + jax.lax.stop_gradient(hard - soft)


def annealed_temperature(step: jax.Array, start: float, end: float,
                         decay_steps: float) -> jax.Array:
  """Exponential annealing τ(t) = max(end, start·(end/start)^(t/decay_steps)).

  Args:
    step: scalar training step (traced).
    start: τ at step 0 (> 0).
    end: floor of τ (> 0).
    decay_steps: steps over which τ falls from `start` to `end` (> 0).

  Returns:
    Scalar temperature.
  """
  frac = jnp.asarray(step, jnp.float32) / decay_steps
  return jnp.maximum(end, start * (end / start) ** frac)


def gibbs_assignment(bits: jax.Array, dist: jax.Array, lmbda: jax.Array,
                     temperature: jax.Array, rate_temperature_cap: float = 0.0
                     ) -> jax.Array:
  """The annealed assignment p(k|x) ∝ 2^{−bits_k/τ_r − λ d_k/τ}.

  τ_r = τ by default (Rose 1998, Eq. 16 with the cost bits + λ d: τ → 0 is
  the argmin encoder); with `rate_temperature_cap` = c > 0, τ_r = min(τ, c),
  so the rate −log2 q(k) keeps weighing in the assignment while τ ≫ c (the
  mass-constrained form, Sec. III-C: at c = 1 and τ → ∞, p(k|x) → q(k)).

  Args:
    bits: [..., K] bits of each index (−log2 q(k), per sample).
    dist: [..., K] distortion of each index.
    lmbda: the Lagrange multiplier (scalar).
    temperature: τ in bits (scalar, > 0).
    rate_temperature_cap: c in bits; 0 tempers the rate by τ.

  Returns:
    p [..., K], summing to 1 over K.
  """
  rate_temperature = (jnp.minimum(temperature, rate_temperature_cap)
                      if rate_temperature_cap else temperature)
  gibbs = bits / rate_temperature + lmbda * dist / temperature
  return jax.nn.softmax(-gibbs * LN2, -1)
