"""Contiguous splits and folds never overlap and cover everything."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from ndc_jax.data import MultiSourceData
from ndc_jax.data import splits


class SplitsTest(parameterized.TestCase):

  @parameterized.parameters(10, 11, 20, 500, 9760, 108000)
  def test_splits_partition_in_order(self, n):
    parts = splits.split_indices(n)
    joined = np.concatenate(parts)
    np.testing.assert_array_equal(joined, np.arange(n))  # cover, no overlap
    for p in parts:
      self.assertGreater(len(p), 0)
      np.testing.assert_array_equal(np.diff(p), 1)  # contiguous
    if n >= 100:
      sizes = np.array([len(p) for p in parts])
      np.testing.assert_allclose(sizes / n, splits.DEFAULT_FRACTIONS,
                                 atol=1 / n)

  def test_named(self):
    named = splits.named_split_slices(500)
    self.assertEqual(tuple(named), splits.SPLIT_NAMES)
    self.assertEqual(named["train"], slice(0, 400))
    self.assertEqual(named["test"], slice(450, 500))

  @parameterized.parameters((5, 5), (23, 5), (100, 3), (9760, 5))
  def test_folds(self, n, k):
    folds = splits.kfold_blocks(n, k)
    self.assertLen(folds, k)
    heldout = np.concatenate([h for _, h in folds])
    np.testing.assert_array_equal(heldout, np.arange(n))  # blocks partition
    for train, held in folds:
      self.assertEmpty(np.intersect1d(train, held))
      np.testing.assert_array_equal(np.sort(np.concatenate([train, held])),
                                    np.arange(n))
      np.testing.assert_array_equal(np.diff(held), 1)
      self.assertLessEqual(abs(len(held) - n / k), 1)

  def test_bad_arguments(self):
    with self.assertRaisesRegex(ValueError, "sum to 1"):
      splits.split_slices(10, (0.5, 0.4))
    with self.assertRaisesRegex(ValueError, "each > 0"):
      splits.split_slices(10, (1.2, -0.2))
    with self.assertRaisesRegex(ValueError, "n=2 is too small"):
      splits.split_slices(2)
    with self.assertRaisesRegex(ValueError, "empty part"):
      splits.split_slices(4, (0.9, 0.05, 0.05))
    with self.assertRaisesRegex(ValueError, r"k=1 .* >= 2"):
      splits.kfold_blocks(10, 1)
    with self.assertRaisesRegex(ValueError, "3 entries"):
      splits.named_split_slices(10, (0.5, 0.5))

  def test_multi_source_take_and_unflatten(self):
    data = MultiSourceData(
        (np.arange(12.0).reshape(3, 4), np.zeros((3, 2))), ((2, 2), (2,)),
        {"name": "toy"}, {"start_sample": np.array([0, 5, 9])})
    sub = data.take(np.array([2, 0]))
    self.assertEqual(sub.num_examples, 2)
    np.testing.assert_array_equal(sub.unflatten(0)[0], [[8, 9], [10, 11]])
    np.testing.assert_array_equal(sub.extras["start_sample"], [9, 0])


if __name__ == "__main__":
  absltest.main()
