"""Tests of the scalar encoder's threshold table."""

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.codec.tables import encoder as encoder_table

# Cells of very different widths, two of them one float32 ulp wide, and a
# label that comes back (3 ... 3): what a learned argmax can look like.
_THRESHOLDS = np.array([-1.0, 0.1, 0.10001, 0.5, np.nextafter(
    np.float32(0.5), np.float32(1)), 2.0, 2.0 + 2**-22], np.float32)
_LABELS = np.array([3, 7, 1, 9, 2, 5, 3, 0])


def _encode(x):
  return _LABELS[np.searchsorted(_THRESHOLDS, np.asarray(x, np.float32),
                                 side="right")]


class EncoderTableTest(parameterized.TestCase):

  def test_float_key_is_an_order_preserving_bijection(self):
    x = np.random.RandomState(0).standard_normal(10**5).astype(np.float32)
    x = np.concatenate([x * 100, [-0.0, 0.0, 1e-45, -1e-45, 3e38, -3e38]]
                       ).astype(np.float32)
    k = encoder_table._key(x)
    np.testing.assert_array_equal(
        encoder_table._float(k).view(np.int32), x.view(np.int32))
    order = np.argsort(x, kind="stable")
    self.assertTrue(np.all(np.diff(k[order]) >= 0))

  @parameterized.parameters(3, 100, 4096)
  def test_build_finds_every_threshold_exactly(self, grid):
    table = encoder_table.build(_encode, -4.0, 4.0, grid)
    np.testing.assert_array_equal(table.thresholds, _THRESHOLDS)
    np.testing.assert_array_equal(table.labels, _LABELS)
    x = np.random.RandomState(1).uniform(-5, 5, 10**5).astype(np.float32)
    x = np.concatenate([x, _THRESHOLDS, np.nextafter(_THRESHOLDS, -9)])
    u = encoder_table.lookup(table, x)
    inside = (x >= -4) & (x <= 4)
    np.testing.assert_array_equal(u[inside], _encode(x[inside]))
    np.testing.assert_array_equal(u[~inside], -1)

  def test_constant_encoder_has_no_thresholds(self):
    table = encoder_table.build(lambda x: np.full(len(x), 5), -1.0, 1.0)
    self.assertEqual(table.thresholds.size, 0)
    np.testing.assert_array_equal(encoder_table.lookup(table, [0.3, 9.0]),
                                  [5, -1])

  @parameterized.parameters((1.0, 1.0, 10), (2.0, -1.0, 10),
                            (-np.inf, 1.0, 10), (0.0, 1.0, 1))
  def test_bad_range_or_grid(self, lo, hi, grid):
    with self.assertRaisesRegex(ValueError, "allowed: finite lo < hi"):
      encoder_table.build(_encode, lo, hi, grid)


if __name__ == "__main__":
  absltest.main()
