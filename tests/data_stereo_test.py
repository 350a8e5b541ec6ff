"""Middlebury stereo loaders on the pair scikit-image ships."""

import os
import sys
import tempfile
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import chex
import numpy as np
from skimage import io

from ndc_jax.data import stereo

CALIB = """cam0=[994.978 0 311.193; 0 994.978 254.877; 0 0 1]
cam1=[994.978 0 342.279; 0 994.978 254.877; 0 0 1]
doffs=31.086
baseline=193.001
width=80
height=60
ndisp=70
"""


class MotorcycleTest(parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.pair = stereo.load_motorcycle()

  def test_raw_pair_and_inf_disparity(self):
    pair = self.pair
    chex.assert_shape([pair.left, pair.right], (500, 741, 3))
    self.assertEqual(pair.left.dtype, np.uint8)
    self.assertEqual(pair.disparity.dtype, np.float32)
    self.assertTrue(np.isposinf(pair.disparity).any())
    valid, invalid_fraction = stereo.disparity_validity(pair.disparity)
    self.assertAlmostEqual(invalid_fraction, np.mean(~np.isfinite(
        pair.disparity)))
    self.assertBetween(invalid_fraction, 0.05, 0.10)  # 7.3 % unknown
    self.assertBetween(float(pair.disparity[valid].min()), 0.0, 60.0)
    for key in ("name", "source", "licence", "citation"):
      self.assertIn(key, pair.meta)

  def test_disparity_convention(self):
    # Left (r, c) matches right (r, c - d): warping beats no warping.
    left = self.pair.left.mean(-1)
    right = self.pair.right.mean(-1)
    valid, _ = stereo.disparity_validity(self.pair.disparity)
    rows, cols = np.nonzero(valid)
    shifted = np.round(cols - self.pair.disparity[valid]).astype(int)
    keep = shifted >= 0
    warped_err = np.abs(left[rows[keep], cols[keep]]
                        - right[rows[keep], shifted[keep]]).mean()
    self.assertLess(warped_err, 0.5 * np.abs(left - right).mean())

  @parameterized.parameters((32, False, 1), (16, True, 3))
  def test_patches_by_region(self, patch, color, channels):
    data = stereo.stereo_patches(self.pair, patch_size=patch, color=color)
    self.assertEqual(tuple(data), ("train", "val", "test"))
    bands = {"train": (0, 400), "val": (400, 450), "test": (450, 500)}
    for name, split in data.items():
      left, right = split.sources
      num = ((bands[name][1] - bands[name][0]) // patch) * (741 // patch)
      chex.assert_shape([left, right], (num, patch * patch * channels))
      self.assertEqual(split.shapes, ((patch, patch, channels),) * 2)
      self.assertEqual(left.dtype, np.float32)
      self.assertTrue(0.0 <= left.min() and left.max() <= 1.0)
      rows = split.extras["origin_rc"][:, 0]
      # Every pixel of the split lies in its own band: no test pixel trains.
      self.assertGreaterEqual(rows.min(), bands[name][0])
      self.assertLessEqual(rows.max() + patch, bands[name][1])
      self.assertEqual(split.meta["rows"], list(bands[name]))
    # Aligned: row k of both sources is the same region of each view.
    r, c = data["test"].extras["origin_rc"][3]
    expected = self.pair.right[r:r + patch, c:c + patch] / 255.0
    if not color:
      expected = (expected @ stereo.LUMA_WEIGHTS)[..., None]
    np.testing.assert_allclose(data["test"].unflatten(1)[3], expected,
                               atol=1e-6)

  def test_inf_disparity_is_masked(self):
    data = stereo.stereo_patches(stereo.load_motorcycle(), 32)
    total_invalid = 0.0
    for split in data.values():
      disp, valid = split.extras["disparity"], split.extras["disparity_valid"]
      self.assertTrue(np.isfinite(disp).all())
      np.testing.assert_array_equal(disp[~valid], 0.0)
      np.testing.assert_allclose(split.extras["disparity_valid_fraction"],
                                 valid.mean(-1))
      self.assertAlmostEqual(split.meta["invalid_disparity_fraction"],
                             1.0 - valid.mean(), places=6)
      total_invalid += (~valid).sum()
      r, c = split.extras["origin_rc"][0]
      np.testing.assert_array_equal(
          valid[0].reshape(32, 32),
          np.isfinite(self.pair.disparity[r:r + 32, c:c + 32]))
    self.assertGreater(total_invalid, 0)

  @parameterized.parameters(0, 51, 16.0, True)
  def test_bad_patch_size(self, patch):
    with self.assertRaisesRegex(ValueError,
                                rf"patch_size={patch!r}.*\[1, 50\]"):
      stereo.stereo_patches(self.pair, patch_size=patch)

  def test_middlebury_directory(self):
    scene = os.path.join(self.enterContext(tempfile.TemporaryDirectory()),
                         "Motorcycle-tiny")
    os.mkdir(scene)
    left = self.pair.left[200:260, 300:380]
    right = self.pair.right[200:260, 300:380]
    disp = self.pair.disparity[200:260, 300:380]
    self.assertTrue(np.isinf(disp).any())
    io.imsave(os.path.join(scene, "im0.png"), left, check_contrast=False)
    io.imsave(os.path.join(scene, "im1.png"), right, check_contrast=False)
    stereo.write_pfm(os.path.join(scene, "disp0.pfm"), disp)
    with open(os.path.join(scene, "calib.txt"), "w") as f:
      f.write(CALIB)
    pair = stereo.load_middlebury_dir(scene)
    np.testing.assert_array_equal(pair.left, left)
    np.testing.assert_array_equal(pair.right, right)
    np.testing.assert_array_equal(pair.disparity, disp)  # inf kept
    self.assertEqual(pair.calib["cam1"][0][2], 342.279)
    self.assertEqual(pair.calib["width"], 80)
    self.assertAlmostEqual(pair.calib["baseline"], 193.001)
    self.assertEqual(pair.meta["name"], "middlebury_Motorcycle-tiny")
    data = stereo.stereo_patches(pair, patch_size=6, fractions=(0.6, 0.2, 0.2))
    self.assertEqual(data["test"].num_examples, 2 * (80 // 6))
    self.assertTrue(np.isfinite(data["train"].extras["disparity"]).all())

  def test_missing_directory_and_files(self):
    with self.assertRaisesRegex(FileNotFoundError, "im0.png.*calib.txt"):
      stereo.load_middlebury_dir("/nonexistent/Motorcycle-perfect")
    empty = self.enterContext(tempfile.TemporaryDirectory())
    with self.assertRaisesRegex(FileNotFoundError, r"im0.png' is missing"):
      stereo.load_middlebury_dir(empty)
    with mock.patch.dict(sys.modules, {"skimage": None}):
      with self.assertRaisesRegex(ImportError,
                                  "pip install scikit-image==0.26.0"):
        stereo.load_motorcycle()


if __name__ == "__main__":
  absltest.main()
