"""Tests of the rate terms (bits) against hand-computed values."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest

from ndc_jax.wyner_ziv import rate


class RateTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_kl_bits_hand_value(self):
    p, q = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.25, 0.75]))
    # 0.5·log2(0.5/0.25) + 0.5·log2(0.5/0.75) = 0.5 − 0.5·log2(1.5)
    np.testing.assert_allclose(self.variant(rate.kl_bits)(p, q),
                               0.5 - 0.5 * np.log2(1.5), rtol=1e-5)

  @chex.variants(with_jit=True, without_jit=True)
  def test_cross_entropy_and_index_bits(self):
    q = jnp.log(jnp.array([[0.5, 0.25, 0.25]]))
    np.testing.assert_allclose(
        self.variant(rate.cross_entropy_bits)(jnp.array([[0., 0.5, 0.5]]), q),
        [2.0], rtol=1e-6)
    np.testing.assert_allclose(
        self.variant(rate.index_bits)(jnp.array([0]), q), [1.0], rtol=1e-6)

  def test_kl_is_cross_entropy_minus_entropy(self):
    enc = jax.random.normal(jax.random.key(0), (16, 8))
    pri = jax.random.normal(jax.random.key(1), (16, 8))
    p = jax.nn.softmax(enc)
    entropy = -jnp.sum(p * jnp.log2(p), -1)
    chex.assert_trees_all_close(
        rate.training_rate_bits("kl", enc, pri),
        rate.training_rate_bits("cross_entropy", enc, pri) - entropy,
        atol=1e-5)

  def test_empirical_entropy(self):
    u = jnp.array([0, 0, 1, 2])
    np.testing.assert_allclose(rate.empirical_entropy_bits(u, 4), 1.5,
                               rtol=1e-6)

  def test_unknown_form(self):
    with self.assertRaisesRegex(ValueError, "'bogus'.*cross_entropy"):
      rate.training_rate_bits("bogus", jnp.zeros(2), jnp.zeros(2))


if __name__ == "__main__":
  absltest.main()
