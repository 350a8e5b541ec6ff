"""Tests of the multi-source VAE: input checks, KL, the λ × β_MI grid, and a
short end-to-end run (files, MI grows with β_MI, grid == loop of runs)."""

import os
import tempfile

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest

from experiments.configs import multisource_gaussian
from ndc_jax.models import train as multisource
from ndc_jax.multisource import job as multisource_experiment
from ndc_jax.core import results
from ndc_jax.models import sources as ms
from ndc_jax.data import MultiSourceData


def _arm():
  c = multisource_gaussian.get_config("quick").arms.infonce_joint
  c.train.num_steps, c.train.chunk_steps = 150, 75
  c.sweep.lmbdas, c.sweep.betas = (4.0,), (-2.0, 2.0)
  c.eval.num_samples = 2000
  return c


def _data(n=50, nan=False, rows2=None):
  a = np.random.default_rng(0).normal(size=(n, 6)).astype(np.float32)
  b = a[: rows2 or n, :4].copy()
  if nan:
    b[3, 1] = np.nan
  return MultiSourceData((a, b), ((2, 3), (4,)), {"name": "toy"}, {})


class ValidationTest(absltest.TestCase):

  def test_bad_configs_fail_before_training(self):
    cases = [("source", "num_sources", 1, "num_sources=1.*>= 2"),
             ("model", "num_negatives", -1, "num_negatives=-1"),
             ("model", "num_negatives", 32, "num_negatives=32"),
             ("model", "mi_estimator", "nwj", "mi_estimator='nwj'.*allowed"),
             ("model", "critic", "cosine", "critic='cosine'.*allowed"),
             ("model", "mi_multiway", "triples", "'triples'.*allowed"),
             ("train", "update_mode", "sometimes", "'sometimes'.*allowed"),
             ("source", "rho", -0.7, "rho=-0.7"),
             ("sweep", "lmbdas", (), "sweep.lmbdas")]
    for section, field, value, msg in cases:
      c = _arm()
      c[section][field] = value
      if field == "rho":
        c.source.num_sources = 3
      with self.subTest(field=field), self.assertRaisesRegex(ValueError, msg):
        multisource.make_train(c)

  def test_bad_data_fail_before_training(self):
    with self.assertRaisesRegex(ValueError, "NaN"):
      ms.from_data(_data(nan=True))
    with self.assertRaisesRegex(ValueError, "40 examples but source 0 has 50"):
      ms.from_data(_data(rows2=40))
    with self.assertRaisesRegex(ValueError, "N >= 2"):
      ms.from_data(MultiSourceData((np.zeros((5, 2)),), ((2,),), {}, {}))
    bad = _data()._replace(shapes=((2, 2), (4,)))
    with self.assertRaisesRegex(ValueError, "dim 6 but its example shape"):
      ms.from_data(bad)
    with self.assertRaisesRegex(ValueError, r"expected \[3, 4\]"):
      ms.check_batch((jnp.zeros((3, 6)), jnp.zeros((3, 5))), (6, 4))

  def test_data_set_is_just_another_source(self):
    src = ms.from_data(_data())
    xs = jax.jit(src.sample, static_argnums=1)(jax.random.key(0), 7)
    chex.assert_shape(xs, ((7, 6), (7, 4)))
    trainer = multisource.make_train(_arm(), src)
    params = jax.eval_shape(trainer.init, jax.random.key(0)).params
    zs = [jnp.zeros((7, 2))] * 2
    x_hat = jax.eval_shape(trainer.decode, params, zs)
    self.assertEqual([x.shape for x in x_hat], [(7, 6), (7, 4)])

  def test_gaussian_source_correlation(self):
    x1, x2 = ms.gaussian(2, 3, 0.8, 2.0).sample(jax.random.key(0), 50_000)
    c = np.cov(np.asarray(x1[:, 0]), np.asarray(x2[:, 0]))
    np.testing.assert_allclose(c, [[2.0, 1.6], [1.6, 2.0]], atol=0.05)


class KLTest(absltest.TestCase):

  def test_kl_closed_form_and_monte_carlo(self):
    mu = jnp.array([[0.5, -1.0], [0.0, 0.0]])
    log_sigma = jnp.log(jnp.array([[0.5, 2.0], [1.0, 1.0]]))
    kl = multisource.gaussian_kl_bits(mu, log_sigma)
    # ½Σ(μ² + σ² − 1 − log σ²) nats: row 0 = ½[(0.25 + 0.25 − 1 + log 4) +
    # (1 + 4 − 1 − log 4)] = 1.75 nats; row 1 = 0.
    np.testing.assert_allclose(kl, [1.75 / np.log(2), 0.0], rtol=1e-5)
    eps = jax.random.normal(jax.random.key(0), (200_000, 2))
    z = mu[0] + jnp.exp(log_sigma[0]) * eps
    log_q = -0.5 * jnp.sum(eps ** 2 + 2 * log_sigma[0], -1)
    log_p = -0.5 * jnp.sum(z ** 2, -1)
    self.assertAlmostEqual(float(jnp.mean(log_q - log_p)) / np.log(2),
                           float(kl[0]), delta=0.02)


class TrainingTest(absltest.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.tmp = tempfile.TemporaryDirectory()
    cls.config = multisource_gaussian.get_config("quick")
    cls.config.arms = {"infonce_joint": _arm()}
    cls.rows = multisource_experiment.train_and_evaluate(cls.config,
                                                         cls.tmp.name)

  @classmethod
  def tearDownClass(cls):
    cls.tmp.cleanup()
    super().tearDownClass()

  def test_results_written(self):
    for name in ("config.json", "metrics.jsonl", "rd.csv", "beta_effect.csv",
                 "rd.png", "beta_effect.png", "params/infonce_joint.npz"):
      self.assertTrue(os.path.exists(os.path.join(self.tmp.name, name)), name)
    table = results.read_csv(os.path.join(self.tmp.name, "rd.csv"))
    self.assertLen(table, 2)
    for r in self.rows:
      self.assertEqual(r["mi_term"], "pairwise")
      for k in ("kl_bpd_sum", "op_bpd_sum", "mse_op_1", "gap_op_bits"):
        self.assertTrue(np.isfinite(r[k]), k)
      self.assertAlmostEqual(r["op_bpd_sum"], r["op_est_bpd_sum"], delta=0.1)
      self.assertAlmostEqual(r["gap_op_bits"], r["op_bpd_sum"] -
                             r["two_terminal_op_bits"], places=4)

  def test_more_beta_gives_more_mi(self):
    mi = {r["beta_mi"]: r["mi_bits"] for r in self.rows}
    self.assertGreater(mi[2.0], mi[-2.0])

  def test_grid_equals_loop_of_single_runs(self):
    arm = self.config.arms.infonce_joint
    trainer = multisource.make_train(arm)
    lmbdas, betas, seeds = multisource.sweep_grid(arm)
    like = jax.eval_shape(jax.vmap(trainer.init),
                          jax.vmap(jax.random.key)(seeds)).params
    grid, _ = results.load_tree(os.path.join(self.tmp.name, "params",
                                             "infonce_joint.npz"), like)
    single = jax.jit(trainer.train)
    zs = list(jax.random.normal(jax.random.key(5), (2, 256, 2)))
    mi_bits = jax.jit(lambda p: trainer.mi_nats(p, zs, jax.random.key(0),
                                                jnp.ones(1))[0][0])
    for i in range(len(lmbdas)):
      state, _ = single(lmbdas[i], betas[i], jax.random.key(seeds[i]))
      point = jax.tree.map(lambda a: a[i], grid)
      # The critic's output biases get exactly zero InfoNCE gradient (a
      # constant shift cancels in the softmax), so Adam moves them by
      # rounding noise: compare what the critic computes, not those leaves.
      chex.assert_trees_all_close(point["enc"], state.params["enc"],
                                  rtol=2e-3, atol=2e-4)
      chex.assert_trees_all_close(point["dec"], state.params["dec"],
                                  rtol=2e-3, atol=2e-4)
      self.assertAlmostEqual(float(mi_bits(point)),
                             float(mi_bits(state.params)), delta=1e-3)


if __name__ == "__main__":
  absltest.main()
