"""Tests of the Lloyd design of one-shot entropy-constrained WZ quantizers."""

import functools

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.baselines import nested_sq, wz_lloyd


@functools.lru_cache(maxsize=None)
def _grid(name="gaussian", direction="y_is_x_plus_noise", fine=False):
  src = nested_sq.make_source(name, direction=direction)
  s = nested_sq.conditional_std(src)
  dx = None if fine else (s / 32 if name == "signed_laplace" else s / 10)
  return wz_lloyd.make_grid(src, dx=dx)


class LloydTest(parameterized.TestCase):

  @parameterized.product(
      source=[("gaussian", "y_is_x_plus_noise"),
              ("gaussian", "x_is_y_plus_noise"), ("signed_laplace", "")],
      rate_model=["marginal", "conditional"])
  def test_each_iteration_does_not_increase_the_lagrangian(self, source,
                                                          rate_model):
    grid = _grid(source[0], source[1] or "y_is_x_plus_noise")
    lmbda = 300.0 if source[0] == "gaussian" else 10.0
    rng = np.random.default_rng(1)
    n = np.floor(grid.x_mean / 0.1).astype(int)
    starts = [rng.integers(12, size=n.max() - n.min() + 1)[n - n.min()],
              np.mod(n, 5)]
    for init in starts:
      d = wz_lloyd.lloyd(grid, lmbda, init, rate_model, max_iter=30)
      steps = np.diff(d.history)
      self.assertGreater(len(steps), 0)
      self.assertTrue(np.all(steps <= 1e-12 * abs(d.history[0])), steps.max())
      self.assertLess(d.history[-1], d.history[0])
      self.assertAlmostEqual(d.lagrangian, d.rate_bits + lmbda * d.mse, 12)

  def test_grid_evaluates_an_aligned_nested_sq_exactly(self):
    grid = _grid(fine=True)
    dx = grid.x_edges[2] - grid.x_edges[1]
    step = 15 * dx  # cells of the quantizer are unions of grid cells
    u = np.mod(np.floor(grid.x_mean / step), 8).astype(int)
    exact = nested_sq.nested_sq_rd(grid.source, step, 8)
    for rate_model, rate in (("marginal", exact.rate_bits),
                             ("conditional", exact.conditional_rate_bits)):
      d = wz_lloyd.lloyd(grid, 1000.0, u, rate_model, max_iter=0)
      np.testing.assert_allclose(d.rate_bits, rate, rtol=1e-9)
      np.testing.assert_allclose(d.mse, exact.mse, rtol=1e-9)
    # Every index of a nested SQ serves many disjoint x-intervals.
    self.assertGreater(wz_lloyd.intervals_per_index(grid, u).min(), 5)

  def test_design_is_no_worse_than_the_best_nested_sq(self):
    grid = _grid(fine=True)
    lmbda = 1000.0
    d = wz_lloyd.design(grid, lmbda, num_random=3)
    best_lag = min(  # M = 8 is the best nested SQ at λ = 1000.
        r.rate_bits + lmbda * r.mse for r in
        (nested_sq.nested_sq_best_step(grid.source, m)[1] for m in (7, 8, 9)))
    self.assertLess(d.lagrangian, best_lag * (1 + 2e-3))
    np.testing.assert_allclose(d.rate_bits, 3.0, atol=0.01)
    np.testing.assert_allclose(d.mse, 0.000786, rtol=0.01)

  def test_signed_laplace_design_bins_x_with_minus_x(self):
    grid = _grid("signed_laplace", fine=True)
    lmbda = 10.0
    d = wz_lloyd.design(grid, lmbda, num_random=3)
    steps = np.geomspace(0.1, 5.0, 2000)
    rd = nested_sq.abs_uniform_rd(steps)
    np.testing.assert_allclose(d.lagrangian,
                               np.min(rd.rate_bits + lmbda * rd.mse),
                               rtol=1e-3)
    # The sign is known at the decoder: each index serves ±x, two intervals.
    counts = wz_lloyd.intervals_per_index(grid, d.assignment)
    self.assertEqual(counts.max(), 2)

  def test_intervals_per_index_counts_runs(self):
    grid = _grid()
    u = np.zeros(grid.x_mean.size, int)
    u[np.abs(grid.x_mean - 1.0) < 0.2] = 1
    u[np.abs(grid.x_mean + 1.0) < 0.2] = 1
    np.testing.assert_array_equal(wz_lloyd.intervals_per_index(grid, u),
                                  [3, 2])
    # A run of less than min_mass is not counted.
    u[np.argmax(grid.x_mean > 6.5)] = 1
    np.testing.assert_array_equal(wz_lloyd.intervals_per_index(grid, u),
                                  [3, 2])

  def test_bad_inputs_raise(self):
    grid = _grid()
    u = np.zeros(grid.x_mean.size, int)
    for lmbda in (0.0, -1.0, np.inf, np.nan):
      with self.assertRaisesRegex(ValueError, f"lmbda={lmbda!r}"):
        wz_lloyd.lloyd(grid, lmbda, u)
    with self.assertRaisesRegex(ValueError, "rate_model='joint'.*allowed"):
      wz_lloyd.design(grid, 10.0, "joint")
    with self.assertRaisesRegex(ValueError, r"init has shape \(3,\)"):
      wz_lloyd.lloyd(grid, 10.0, np.zeros(3, int))
    with self.assertRaisesRegex(ValueError, "dx=0.02 is too coarse.*10 points"):
      wz_lloyd.make_grid(grid.source, dx=0.02)


if __name__ == "__main__":
  absltest.main()
