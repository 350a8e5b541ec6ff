"""Tests of the binning count on hand-made encoders and of the standard
errors the evaluation reports."""

import numpy as np
from absl.testing import absltest

from ndc_jax.wyner_ziv import evaluate


class CountIntervalsTest(absltest.TestCase):

  def test_mod_quantizer_bins(self):
    x = np.linspace(-1, 1, 10_000)
    u = (np.floor(x / 0.25).astype(int)) % 4  # 8 cells, 4 indices, 2 each
    np.testing.assert_array_equal(evaluate.count_intervals(x, u, 5),
                                  [2, 2, 2, 2, 0])

  def test_plain_quantizer_and_tiny_runs(self):
    rng = np.random.default_rng(0)
    x = rng.permutation(np.linspace(-1, 1, 10_000))
    u = (x > 0).astype(int)
    u[np.argmin(np.abs(x + 0.5))] = 1  # one stray sample is no interval
    np.testing.assert_array_equal(evaluate.count_intervals(x, u, 2), [1, 1])



class MeanAndSeTest(absltest.TestCase):

  def test_standard_error_is_sample_std_over_root_n(self):
    v = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 1.0]])
    mean, se = evaluate.mean_and_se(v)
    np.testing.assert_allclose(mean, [1.5, 1.0])
    np.testing.assert_allclose(se, [np.sqrt(5.0 / 3.0) / 2.0, 0.0])

  def test_standard_error_covers_the_spread_of_means(self):
    rng = np.random.default_rng(0)
    draws = rng.exponential(size=(400, 1000))  # σ = 1: SE = 1/√1000
    means, ses = evaluate.mean_and_se(draws)
    self.assertAlmostEqual(float(np.std(means)), float(np.mean(ses)),
                           delta=0.1 * float(np.mean(ses)))


if __name__ == "__main__":
  absltest.main()
