"""Tests of the InfoNCE and MINE estimators and their critics."""

import math

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest, parameterized
from flax import nnx

from ndc_jax.core import mi

DIM, BATCH, K, STEPS = 2, 128, 31, 250


def _correlated(key, rho, batch):
  """(a, b) [batch, DIM], per component correlation rho;
  I(A; B) = −DIM/2·log(1 − ρ²) nats."""
  k1, k2 = jax.random.split(key)
  a = jax.random.normal(k1, (batch, DIM))
  return a, rho * a + jnp.sqrt(1 - rho ** 2) * jax.random.normal(
      k2, (batch, DIM))


def _train_critic(estimator, critic_kind, rho, key):
  """Adam on the critic for STEPS batches; returns the mean estimate (nats)
  over 20 fresh batches."""
  import optax
  graph, params = nnx.split(mi.make_critic(critic_kind, DIM, DIM, (16,), 8,
                                           jax.random.key(0)))
  tx = optax.adam(3e-3)

  def objective(p, k, ma):
    a, b = _correlated(k, rho, BATCH)
    est, obj, ma = mi.estimate(estimator, nnx.merge(graph, p), a, b, K,
                               jax.random.fold_in(k, 1), ma, 0.05)
    return obj, (est, ma)

  def step(carry, k):
    p, opt, ma = carry
    g, (_, ma) = jax.grad(objective, has_aux=True)(p, k, ma)
    upd, opt = tx.update(jax.tree.map(lambda x: -x, g), opt, p)
    return (optax.apply_updates(p, upd), opt, ma), None

  k_train, k_test = jax.random.split(key)
  (params, _, ma), _ = jax.lax.scan(step, (params, tx.init(params), 1.0),
                                    jax.random.split(k_train, STEPS))
  ests = jax.vmap(lambda k: objective(params, k, ma)[1][0])(
      jax.random.split(k_test, 20))
  return jnp.mean(ests)


class EstimatorTest(parameterized.TestCase):

  def test_infonce_limits(self):
    perfect = jnp.where(jnp.arange(K + 1) == 0, 50.0, 0.0)[None].repeat(8, 0)
    self.assertAlmostEqual(float(mi.infonce_nats(perfect)), math.log(K + 1),
                           places=4)
    self.assertAlmostEqual(float(mi.infonce_nats(jnp.ones((8, K + 1)))), 0.0,
                           places=6)

  def test_dv_hand_value(self):
    # E_P[T] = 1, log E_Q[e^T] = log((e^0 + e^2)/2).
    got = mi.dv_nats(jnp.array([0.5, 1.5]), jnp.array([0.0, 2.0]))
    self.assertAlmostEqual(float(got), 1 - math.log((1 + math.e ** 2) / 2),
                           places=5)

  def test_mine_surrogate_has_the_corrected_gradient(self):
    t_j, t_m, ma = jnp.array([0.3, -0.2]), jnp.array([0.1, 0.7, -0.4]), 1.7
    g_j, g_m = jax.grad(mi.mine_surrogate, argnums=(0, 1))(t_j, t_m, ma)
    np.testing.assert_allclose(g_j, [0.5, 0.5], rtol=1e-6)
    np.testing.assert_allclose(g_m, -np.exp(t_m) / 3 / ma, rtol=1e-6)
    new = mi.ema_update(2.0, t_m, 0.1)
    self.assertAlmostEqual(float(new), 0.9 * 2 + 0.1 * float(
        jnp.mean(jnp.exp(t_m))), places=5)

  def test_multiway_terms(self):
    self.assertEqual(mi.multiway_terms("pairwise", 3),
                     [((0,), 1), ((0,), 2), ((1,), 2)])
    self.assertEqual(mi.multiway_terms("total_correlation", 3),
                     [((0,), 1), ((0, 1), 2)])
    self.assertEqual(mi.multiway_terms("pairwise", 2),
                     mi.multiway_terms("total_correlation", 2))

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, "'cosine'.*allowed"):
      mi.make_critic("cosine", 2, 2, (4,), 4, jax.random.key(0))
    with self.assertRaisesRegex(ValueError, "'nwj'.*allowed"):
      mi.estimate("nwj", None, jnp.zeros((4, 2)), jnp.zeros((4, 2)), 2, None)
    with self.assertRaisesRegex(ValueError, "num_negatives=-1"):
      mi.candidates(jnp.zeros((4, 2)), -1)
    with self.assertRaisesRegex(ValueError, "num_negatives=4"):
      mi.candidates(jnp.zeros((4, 2)), 4)
    with self.assertRaisesRegex(ValueError, "'triples'"):
      mi.multiway_terms("triples", 3)

  def test_critic_shapes(self):
    for kind in mi.CRITICS:
      critic = mi.make_critic(kind, 3, 2, (4,), 5, jax.random.key(0))
      chex.assert_shape(critic(jnp.ones((6, 3)), jnp.ones((4, 6, 2))), (4, 6))

  @parameterized.parameters(("infonce", "separable"), ("infonce", "mlp"),
                            ("mine", "mlp"))
  def test_estimates_on_correlated_gaussians(self, estimator, critic):
    rhos = jnp.array([0.5, 0.9])
    truth = -DIM / 2 * np.log(1 - np.asarray(rhos) ** 2)  # 0.288, 1.661 nats
    est = np.asarray(jax.jit(jax.vmap(lambda r: _train_critic(
        estimator, critic, r, jax.random.key(3))))(rhos))
    self.assertGreater(est[1], est[0] + 0.5)  # moves the right way
    self.assertGreater(est[0], 0.1)
    np.testing.assert_array_less(est, truth + 0.15)  # lower bounds (± noise)
    np.testing.assert_array_less(truth[1] - 0.5, est[1])
    if estimator == "infonce":
      np.testing.assert_array_less(est, math.log(K + 1))


if __name__ == "__main__":
  absltest.main()
