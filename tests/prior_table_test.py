"""Tests of the scalar conditional prior's table on a grid of y."""

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.codec.tables import prior as prior_table


def _prior(y):
  """A stand-in prior: [B, 1] -> [B, 2] rows that name their y."""
  return np.concatenate([y, -y], axis=1).astype(np.float64)


class PriorTableTest(parameterized.TestCase):

  @parameterized.parameters(2, 7, 1000)
  def test_lookup_picks_the_nearest_grid_point(self, grid):
    table = prior_table.build(_prior, -3.0, 2.0, grid)
    ys = table.rows[:, 0].astype(np.float32)
    self.assertLen(ys, grid)
    np.testing.assert_allclose(np.diff(ys), table.step, rtol=1e-4)
    y = np.random.RandomState(0).uniform(-4, 3, 10**4).astype(np.float32)
    y = np.concatenate([y, ys, table.midpoints,
                        np.nextafter(table.midpoints, np.float32(9))])
    rows = prior_table.lookup(table, y)
    inside = (y >= -3) & (y <= 2)
    np.testing.assert_array_equal(rows[~inside], -1)
    dist = np.abs(y[:, None] - ys[None].astype(np.float64))[inside]
    picked = dist[np.arange(dist.shape[0]), rows[inside]]
    # The nearest grid point, up to the float32 rounding of the midpoints.
    excess = picked - dist.min(axis=1)
    self.assertTrue(np.all(excess <= np.spacing(np.abs(y[inside]))),
                    excess.max())
    self.assertLessEqual(picked.max(), table.step / 2 * (1 + 1e-4))
    np.testing.assert_array_equal(prior_table.lookup(table, ys),
                                  np.arange(grid))

  def test_bad_range_names_the_prior_table(self):
    with self.assertRaisesRegex(ValueError, "prior table range .* allowed"):
      prior_table.build(_prior, 1.0, -1.0, 10)


if __name__ == "__main__":
  absltest.main()
