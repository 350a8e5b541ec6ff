"""Entropy-constrained vector quantization of latents, for the distributed
VQ-VAE baseline.

Whang, Nagle, Schuler (Whang et al.), "Neural distributed source coding",
2021 (arXiv:2106.02797), Sec. 3: a VQ-VAE (van den Oord, Vinyals,
Kavukcuoglu, NeurIPS 2017, Eq. 3) whose encoder sees x only and whose
decoder also sees the side information. Here each latent position's vector
e [D] is coded as one index k of a codebook c [K, D] under a learned
categorical prior q(k) shared by encoder and decoder, chosen by the
entropy-constrained rule of Chou, Lookabaugh, Gray (IEEE TASSP 1989):

    k* = argmin_k  λ_vq·‖e − c_k‖² − log2 q(k),

so the traced λ sets the rate; the rate is −log2 q(k*) bits per position,
coded with ANS (a codable marginal rate: no Slepian-Wolf binning of the
indices against the side information).

Shapes: e [..., D], codebook [K, D], logits [K] -> indices [...].
"""

import constriction
import jax
import jax.numpy as jnp
import numpy as np


def index_bits(logits: jax.Array) -> jax.Array:
  """−log2 q(k) for every k: [K]."""
  return -jax.nn.log_softmax(logits) / jnp.log(2.0)


def sq_dist(e: jax.Array, codebook: jax.Array) -> jax.Array:
  """‖e − c_k‖² for every k: [..., D] -> [..., K]."""
  return (jnp.sum(e * e, -1, keepdims=True) - 2.0 * e @ codebook.T
          + jnp.sum(codebook * codebook, -1))


def select(e: jax.Array, codebook: jax.Array, logits: jax.Array,
           lmbda_vq: jax.Array) -> jax.Array:
  """The entropy-constrained choice k* [...] (int32)."""
  score = lmbda_vq * sq_dist(e, codebook) + index_bits(logits)
  return jnp.argmin(score, -1).astype(jnp.int32)


def probabilities(logits) -> np.ndarray:
  """q(k) as float64 [K] for the coder."""
  return np.asarray(jax.nn.softmax(jnp.asarray(logits, jnp.float32)),
                    np.float64)


def encode(indices: np.ndarray, logits) -> np.ndarray:
  """ANS-codes indices (any shape) under q; uint32 words."""
  coder = constriction.stream.stack.AnsCoder()
  model = constriction.stream.model.Categorical(probabilities(logits),
                                                perfect=False)
  coder.encode_reverse(np.asarray(indices, np.int32).reshape(-1), model)
  return coder.get_compressed()


def decode(words: np.ndarray, logits, count: int) -> np.ndarray:
  """`count` indices (int64) from `encode`'s words."""
  coder = constriction.stream.stack.AnsCoder(words)
  model = constriction.stream.model.Categorical(probabilities(logits),
                                                perfect=False)
  return np.asarray(coder.decode(model, count), np.int64)
