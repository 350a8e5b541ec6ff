"""Tests of the factorized entropy model and its ANS bitstream."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest

from ndc_jax.core import entropy_model as em


class EntropyModelTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.params = em.init_params(channels=3, components=4)

  def test_bin_masses_sum_to_one(self):
    y = jnp.broadcast_to(jnp.arange(-60.0, 61.0)[:, None], (121, 3))
    mass = jax.jit(em.bin_mass)(self.params, y)
    np.testing.assert_allclose(mass.sum(axis=0), np.ones(3), atol=1e-5)
    chex.assert_shape(em.bits(self.params, y), (121, 3))

  def test_single_logistic_bits_closed_form(self):
    # One unit logistic at 0: P(0) = σ(½) − σ(−½) = tanh(¼).
    p = em.init_params(1, 1)
    self.assertAlmostEqual(float(em.bits(p, jnp.zeros((1, 1)))[0, 0]),
                           -np.log2(np.tanh(0.25)), places=5)

  def test_tail_mass_is_accurate(self):
    # Far right of the mode σ(u) − σ(l) cancels in float32 (eps 6e-8); the
    # tail-side form keeps P(15) = σ(−14.5) − σ(−15.5) ≈ 3.1e-7.
    p = em.init_params(1, 1)
    want = 1 / (1 + np.exp(14.5)) - 1 / (1 + np.exp(15.5))
    got = float(em.bin_mass(p, jnp.full((1, 1), 15.0))[0, 0])
    np.testing.assert_allclose(got, want, rtol=1e-3)

  def test_constant_symbols(self):
    symbols = np.zeros((100, 3), int)
    words, lo, hi = em.encode(self.params, symbols)
    np.testing.assert_array_equal(
        em.decode(self.params, words, lo, hi, symbols.shape), symbols)

  def test_noise_and_rounding(self):
    y = jnp.linspace(-3, 3, 1000)
    u = em.noisy(jax.random.key(0), y) - y
    self.assertLessEqual(float(jnp.abs(u).max()), 0.5)
    np.testing.assert_array_equal(em.quantize(jnp.array([-1.4, 0.6, 2.5])),
                                  [-1.0, 1.0, 2.0])

  def test_bitstream_roundtrip_and_length(self):
    rng = np.random.default_rng(0)
    symbols = np.round(rng.normal(size=(4000, 3)) * [0.5, 1.0, 2.0]).astype(int)
    words, lo, hi = em.encode(self.params, symbols)
    decoded = em.decode(self.params, words, lo, hi, symbols.shape)
    np.testing.assert_array_equal(decoded, symbols)
    ideal = float(em.bits(self.params, jnp.asarray(symbols, jnp.float32)).sum())
    self.assertBetween(32.0 * len(words), ideal - 64, ideal * 1.01 + 64)

  def test_training_fits_the_density(self):
    # A few hundred Adam steps on N(0, 1.5²) bring the rate near its entropy.
    y = jax.random.normal(jax.random.key(1), (4096, 1)) * 1.5
    params = em.init_params(1, 3)

    @jax.jit
    def step(p, _):
      g = jax.grad(lambda p: jnp.mean(em.bits(p, em.quantize(y))))(p)
      return jax.tree.map(lambda a, b: a - 0.05 * b, p, g), None

    params, _ = jax.lax.scan(step, params, None, length=300)
    q = np.asarray(em.quantize(y)).astype(int).ravel()
    counts = np.bincount(q - q.min())
    freq = counts[counts > 0] / q.size
    entropy = -np.sum(freq * np.log2(freq))
    rate = float(jnp.mean(em.bits(params, em.quantize(y))))
    self.assertBetween(rate, entropy - 1e-3, entropy + 0.05)


if __name__ == "__main__":
  absltest.main()
