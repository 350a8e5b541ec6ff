"""Tests of per-λ seed selection on a validation set (`eval.select_seed`)."""

import os
import tempfile

import numpy as np
from absl.testing import absltest

import ml_collections
from experiments.configs import wyner_ziv
from ndc_jax.core import results
from ndc_jax.wyner_ziv import job
from ndc_jax.wyner_ziv import train


def laplace_arm(select: bool):
  """The default Laplacian arm, shortened: 2 λ × 3 seeds, 300 steps."""
  c = wyner_ziv.binning_arm("signed_laplace", (3.0, 30.0))
  c.model.num_indices = 16
  c.train.update(num_steps=300, chunk_steps=150, batch_size=128,
                 temperature_decay_steps=250.0)
  c.sweep.seeds = (0, 1, 2)
  c.eval.update(num_samples=20_000, validation_samples=20_000,
                baseline_quick=True, select_seed=select)
  return c


class SelectedSeedsTest(absltest.TestCase):

  def test_one_seed_per_lambda_the_least_lagrangian(self):
    lmbdas = np.array([1.0, 1.0, 1.0, 5.0, 5.0, 5.0])
    lag = np.array([3.0, 1.0, 2.0, 0.5, 0.5, 0.7])
    keep = job.selected_seeds(lag, lmbdas)
    np.testing.assert_array_equal(keep, [0, 1, 0, 1, 0, 0])


class SelectSeedRunTest(absltest.TestCase):

  def test_rows_mark_the_seed_of_least_validation_lagrangian(self):
    config = ml_collections.ConfigDict({"job": "wyner_ziv", "arms": {
        "laplace_marginal": laplace_arm(True)}})
    workdir = tempfile.mkdtemp()
    rows = job.train_and_evaluate(config, workdir)
    self.assertLen(rows, 6)
    for lmbda in (3.0, 30.0):
      at = [r for r in rows if r["lmbda"] == lmbda]
      lag = [r["validation_lagrangian"] for r in at]
      self.assertTrue(np.all(np.isfinite(lag)))
      self.assertEqual([r["selected"] for r in at],
                       [int(i == np.argmin(lag)) for i in range(3)])
      # validation and test are separate draws: their Lagrangians differ
      test_lag = [r["rate_bits"] + lmbda * r["distortion"] for r in at]
      self.assertFalse(np.allclose(lag, test_lag, rtol=0, atol=1e-9))
    csv = results.read_csv(os.path.join(workdir, "rd.csv"))
    self.assertEqual(sorted(int(float(r["selected"])) for r in csv),
                     [0, 0, 0, 0, 1, 1])

  def test_without_selection_every_row_is_selected(self):
    arm = laplace_arm(False)
    lmbdas, seeds = train.sweep_grid(arm)
    ev = {"rate_bits": np.full(6, 1.0), "distortion": np.full(6, 0.1)}
    rows = job.rd_rows("laplace_marginal", arm, train.make_train(arm), ev,
                       lmbdas, seeds)
    self.assertEqual([r["selected"] for r in rows], [1] * 6)
    self.assertTrue(all(r["validation_lagrangian"] is None for r in rows))

  def test_bad_select_field_is_named(self):
    arm = laplace_arm(True)
    arm.eval.validation_samples = 1
    with self.assertRaisesRegex(ValueError, "eval.validation_samples=1"):
      train.validate(arm)


if __name__ == "__main__":
  absltest.main()
