"""Smoke tests of the benchmark helpers (tiny sizes; no timing assertions)."""

import numpy as np
from absl.testing import absltest

from experiments.benchmarks import sweep_bench


class SweepBenchTest(absltest.TestCase):

  def test_matmul_rates_reports_three_positive_rates(self):
    rates = sweep_bench.matmul_rates(models=3, batch=4, reps=2)
    self.assertEqual(list(rates), ["one model", "3 vmapped", "3 unrolled"])
    self.assertTrue(all(np.isfinite(r) and r > 0 for r in rates.values()))


if __name__ == "__main__":
  absltest.main()
