"""Tests of the learned table decoder g(k, y) for blocks (models.TableDecoder)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest, parameterized
from flax import nnx

from experiments.configs import wyner_ziv as wz_config
from ndc_jax.wyner_ziv import compressor
from ndc_jax.wyner_ziv import evaluate
from ndc_jax.wyner_ziv import models
from ndc_jax.wyner_ziv import sources
from ndc_jax.wyner_ziv import train


def table(dim, points=5, k=3, centres=4):
  return models.TableDecoder(dim, k, centres, 1.5, points, 2.0,
                             rngs=nnx.Rngs(0))


class TableDecoderTest(chex.TestCase):

  @parameterized.parameters(1, 2)
  def test_starts_from_the_nearest_random_point_of_each_index(self, dim):
    dec = table(dim)
    axis = np.linspace(-2.0, 2.0, 5)
    nodes = np.stack(np.meshgrid(*[axis] * dim, indexing="ij"),
                     -1).reshape(-1, dim)
    values = np.asarray(dec.values[...])              # [K, G^n, n]
    for k in range(3):
      points = np.unique(values[k], axis=0)
      self.assertLessEqual(len(points), 4)            # one of its 4 points
      for node, v in zip(nodes, values[k]):
        d = np.sum((points - node) ** 2, -1)
        np.testing.assert_allclose(np.sum((v - node) ** 2), d.min(),
                                   rtol=1e-5)

  def test_exact_at_nodes_and_bilinear_between_them(self):
    dec = table(2)
    rng = np.random.default_rng(0)
    dec.values[...] = jnp.asarray(rng.normal(size=(3, 25, 2)), jnp.float32)
    v = np.asarray(dec.values[...]).reshape(3, 5, 5, 2)
    # nodes (i, j) sit at −2 + i, −2 + j
    got = dec.at_indices(jnp.array([1, 1, 2]),
                         jnp.array([[-1.0, 0.0], [-0.75, 0.5], [9.0, -9.0]]))
    want = [v[1, 1, 2],
            0.75 * (0.5 * v[1, 1, 2] + 0.5 * v[1, 1, 3])
            + 0.25 * (0.5 * v[1, 2, 2] + 0.5 * v[1, 2, 3]),
            v[2, 4, 0]]                               # clamped to the box
    np.testing.assert_allclose(got, np.stack(want), rtol=1e-5, atol=1e-6)

  def test_every_index_at_once_equals_index_by_index(self):
    dec = table(2, points=9, k=6)
    y = 1.7 * jax.random.normal(jax.random.key(1), (4, 7, 2))
    every = dec.at_all_indices(y)
    chex.assert_shape(every, (4, 7, 6, 2))
    for k in range(6):
      np.testing.assert_allclose(
          every[..., k, :], dec.at_indices(jnp.full((4, 7), k), y),
          rtol=1e-6)
    u = jax.nn.one_hot(jnp.arange(7) % 6, 6)
    np.testing.assert_allclose(dec(u, y[0]),
                               dec.at_indices(jnp.arange(7) % 6, y[0]),
                               rtol=1e-6)

  def test_bad_table_points_are_refused(self):
    cfg = wz_config.block_arm((300.,))
    cfg.model.decoder_table_points = 1
    with self.assertRaisesRegex(ValueError, "decoder_table_points=1"):
      compressor.make_compressor(cfg.model, sources.make_source(cfg.source))


class BlockArmTest(chex.TestCase):

  def test_block_config_trains_and_lowers_the_lagrangian(self):
    config = wz_config.get_config("quick,block")
    (arm,) = config.arms.values()
    self.assertEqual(arm.source.dim, 2)
    self.assertEqual((arm.model.decoder, arm.model.side_info_local_grid),
                     ("table", 6))
    arm.train.num_steps, arm.train.chunk_steps = 200, 100
    arm.train.temperature_decay_steps = 150.0
    tr = train.make_train(arm)
    lmbdas = jnp.array([300.0])
    state, metrics = jax.jit(jax.vmap(tr.train))(
        lmbdas, jax.random.split(jax.random.key(0), 1))
    self.assertTrue(np.all(np.isfinite(np.asarray(metrics["loss"]))))
    start = jax.vmap(tr.init)(jax.random.split(jax.random.key(0), 1))

    def lagrangian(params):  # hard argmin indices, fresh draws
      ev = evaluate.evaluate(tr, params, lmbdas, jax.random.key(5), 4096)
      return ev["rate_bits"][0] + 300.0 * ev["distortion"][0]

    self.assertLess(lagrangian(state.params), 0.7 * lagrangian(start.params))

if __name__ == "__main__":
  absltest.main()
