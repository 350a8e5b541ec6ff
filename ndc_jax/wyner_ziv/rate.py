"""Rate terms of the one-shot Wyner-Ziv compressor, in bits.

Ozyilkan, Ballé, Erkip, "Neural Distributed Compressor Discovers Binning",
ISIT 2023, Eq. (3)-(4): the rate of a stochastic encoder p_θ(u|x) under an
entropy model q (marginal q(u) or conditional q(u|y)) is bounded by
E[log p_θ(u|x) − log q(u)]. Two forms are offered:

* `kl_bits`: the expectation over p_θ(u|x) of log p_θ(u|x) − log q(u), i.e.
  KL(p_θ(·|x) ‖ q) — the variational bound of the paper, computed exactly
  over the K indices instead of from a sample.
* `cross_entropy_bits`: E_{p_θ(u|x)}[−log2 q(u)], the cost of coding the
  index itself. It is what a deterministic (argmax) encoder pays at test
  time, so training on it does not reward a stochastic encoder whose
  hard-argmax rate is higher than its training rate.

All shapes are [..., K] for logits and [...] for the returned bits.
"""

import jax
import jax.numpy as jnp

from ndc_jax.core.units import LN2



def kl_bits(enc_logits: jax.Array, prior_logits: jax.Array) -> jax.Array:
  """KL(p(·|x) ‖ q) in bits; shapes [..., K] -> [...]."""
  log_p = jax.nn.log_softmax(enc_logits, axis=-1)
  log_q = jax.nn.log_softmax(prior_logits, axis=-1)
  return jnp.sum(jnp.exp(log_p) * (log_p - log_q), axis=-1) / LN2


def cross_entropy_bits(enc_probs: jax.Array, prior_logits: jax.Array
                       ) -> jax.Array:
  """E_{u~p}[−log2 q(u)] in bits for p given as probabilities or one-hots.

  Args:
    enc_probs: [..., K] a distribution over indices (soft or one-hot).
    prior_logits: [..., K] logits of q (nats).
  Returns:
    [...] bits.
  """
  log_q = jax.nn.log_softmax(prior_logits, axis=-1)
  return -jnp.sum(enc_probs * log_q, axis=-1) / LN2


def index_bits(u: jax.Array, prior_logits: jax.Array) -> jax.Array:
  """Ideal code length −log2 q(u) of hard indices u; [...] ints -> [...] bits."""
  log_q = jax.nn.log_softmax(prior_logits, axis=-1)
  return -jnp.take_along_axis(log_q, u[..., None], axis=-1)[..., 0] / LN2


def empirical_entropy_bits(u: jax.Array, num_indices: int) -> jax.Array:
  """Plug-in entropy H(U) of hard indices u [N], in bits per index."""
  counts = jnp.bincount(u.reshape(-1), length=num_indices)
  p = counts / jnp.maximum(counts.sum(), 1)
  return -jnp.sum(jnp.where(p > 0, p * jnp.log2(jnp.where(p > 0, p, 1.0)), 0.0))


RATE_FORMS = ("cross_entropy", "kl")


def training_rate_bits(form: str, enc_logits: jax.Array,
                       prior_logits: jax.Array) -> jax.Array:
  """The training rate term of `form` (one of RATE_FORMS); [..., K] -> [...]."""
  if form == "kl":
    return kl_bits(enc_logits, prior_logits)
  if form == "cross_entropy":
    return cross_entropy_bits(jax.nn.softmax(enc_logits, axis=-1),
                              prior_logits)
  raise ValueError(f"rate form {form!r} is unknown; allowed: {RATE_FORMS}")
