"""Tests of the binning count on hand-made encoders."""

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


if __name__ == "__main__":
  absltest.main()
