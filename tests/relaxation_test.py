"""Tests of the Gumbel-max sampler, the Concrete relaxation and the Gibbs
assignment of deterministic annealing."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.wyner_ziv import relaxation


class RelaxationTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_gumbel_max_matches_softmax(self):
    logits = jnp.log(jnp.array([0.5, 0.3, 0.15, 0.05]))
    sample = self.variant(lambda k: relaxation.gumbel_max_sample(
        k, jnp.broadcast_to(logits, (200_000, 4))))
    u = sample(jax.random.key(0))
    chex.assert_shape(u, (200_000,))
    freq = np.bincount(np.asarray(u), minlength=4) / u.size
    np.testing.assert_allclose(freq, [0.5, 0.3, 0.15, 0.05], atol=4e-3)

  @chex.variants(with_jit=True, without_jit=True)
  def test_concrete_shares_noise_with_gumbel_max(self):
    logits = jax.random.normal(jax.random.key(1), (64, 8))
    key = jax.random.key(2)
    soft = self.variant(relaxation.concrete_sample)(key, logits, 0.5)
    chex.assert_shape(soft, (64, 8))
    np.testing.assert_allclose(soft.sum(-1), 1.0, rtol=1e-5)
    self.assertTrue((soft >= 0).all())
    np.testing.assert_array_equal(
        jnp.argmax(soft, -1), relaxation.gumbel_max_sample(key, logits))

  @chex.variants(with_jit=True, without_jit=True)
  def test_low_temperature_approaches_one_hot(self):
    logits = jax.random.normal(jax.random.key(3), (32, 5))
    soft = self.variant(relaxation.concrete_sample)(jax.random.key(4), logits,
                                                     1e-3)
    np.testing.assert_allclose(soft.max(-1), 1.0, atol=1e-3)

  def test_straight_through_forward_hard_gradient_soft(self):
    logits = jax.random.normal(jax.random.key(5), (4, 6))
    key, w = jax.random.key(6), jnp.arange(6.0)

    def f(lg, st):
      return jnp.sum(relaxation.concrete_sample(key, lg, 0.7, st) * w)

    hard = relaxation.concrete_sample(key, logits, 0.7, True)
    np.testing.assert_array_equal(hard.max(-1), 1.0)
    np.testing.assert_array_equal(hard.sum(-1), 1.0)
    chex.assert_trees_all_close(jax.grad(f)(logits, True),
                                jax.grad(f)(logits, False), rtol=1e-5)

  @parameterized.parameters((0, 1.0), (500, 0.1 ** 0.5), (1000, 0.1),
                            (5000, 0.1))
  def test_annealed_temperature(self, step, expected):
    t = jax.jit(relaxation.annealed_temperature, static_argnums=(1, 2, 3))(
        step, 1.0, 0.1, 1000.0)
    np.testing.assert_allclose(t, expected, rtol=1e-5)

  def test_gibbs_assignment_without_cap_tempers_the_whole_cost(self):
    bits = jnp.array([[1.0, 2.0, 3.0]])
    dist = jnp.array([[0.3, 0.1, 0.0]])
    p = relaxation.gibbs_assignment(bits, dist, 10.0, 2.0)
    cost = bits + 10.0 * dist
    expected = 2.0 ** (-cost / 2.0) / jnp.sum(2.0 ** (-cost / 2.0))
    np.testing.assert_allclose(p, expected, rtol=1e-5)

  def test_gibbs_assignment_with_cap_follows_q_at_high_temperature(self):
    q = jnp.array([0.6, 0.3, 0.1])
    bits = -jnp.log2(q)[None]
    dist = jnp.array([[5.0, 0.0, 1.0]])
    # τ ≫ λd: the capped rate alone decides, p(k|x) = q(k) at c = 1 ...
    p = relaxation.gibbs_assignment(bits, dist, 1.0, 1e6, 1.0)
    np.testing.assert_allclose(p[0], q, rtol=1e-4)
    # ... while the uncapped assignment is uniform there,
    p = relaxation.gibbs_assignment(bits, dist, 1.0, 1e6)
    np.testing.assert_allclose(p[0], jnp.full(3, 1 / 3), rtol=1e-4)
    # and below the cap both are the same.
    np.testing.assert_allclose(
        relaxation.gibbs_assignment(bits, dist, 3.0, 0.5, 1.0),
        relaxation.gibbs_assignment(bits, dist, 3.0, 0.5), rtol=1e-6)


if __name__ == "__main__":
  absltest.main()
