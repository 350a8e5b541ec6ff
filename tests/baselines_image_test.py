"""Classical image codecs: real files that decode back, rates = file bytes,
header bytes, and a known case (JPEG at quality 100 on a flat image)."""

import importlib
from unittest import mock

import numpy as np
from absl.testing import absltest, parameterized

from ndc_jax.baselines import image_codecs


def _image(shape, seed=0):
  """A smooth test image with an edge, uint8."""
  r = np.random.default_rng(seed)
  y, x = np.mgrid[:shape[0], :shape[1]]
  img = 100 + 60 * np.sin(x / 7.0) * np.cos(y / 5.0) + 40 * (x > shape[1] / 2)
  img = img[..., None] + 10 * r.standard_normal(shape[:2] + (len(shape) == 3
                                                             and 3 or 1,))
  img = np.clip(img, 0, 255).astype(np.uint8)
  return img if len(shape) == 3 else img[..., 0]


class ImageCodecsTest(parameterized.TestCase):

  @parameterized.product(codec=image_codecs.CODECS, colour=(False, True))
  def test_round_trip_and_rate_is_the_file(self, codec, colour):
    img = _image((48, 72, 3) if colour else (48, 72))
    qualities = image_codecs.DEFAULT_QUALITIES[codec]
    low, high = (image_codecs.code_image(codec, img, q)
                 for q in (qualities[1], qualities[-1]))
    for coded in (low, high):
      self.assertEqual(coded.decoded.shape, img.shape)
      self.assertEqual(coded.decoded.dtype, np.uint8)
      self.assertEqual(coded.bits, 8 * len(coded.data))
      np.testing.assert_array_equal(
          image_codecs.decode(codec, coded.data, 3 if colour else 1),
          coded.decoded)
      if codec == "jpegxl":
        self.assertTrue(np.isnan(coded.header_bytes))
      else:
        self.assertGreater(coded.header_bytes, 0)
        self.assertLess(coded.header_bytes, len(coded.data))
    # A higher quality costs more bytes and gives a smaller error.
    self.assertGreater(len(high.data), len(low.data))
    err = lambda c: np.mean((c.decoded.astype(float) - img) ** 2)
    self.assertLess(err(high), err(low))

  def test_jpeg_quality_100_on_a_flat_image(self):
    flat = np.full((64, 64), 128, np.uint8)
    coded = image_codecs.code_image("jpeg", flat, 100)
    np.testing.assert_array_equal(coded.decoded, flat)  # PSNR = inf
    # Pillow's baseline JPEG: 330 header bytes (SOI, JFIF APP0, two
    # quantization tables, SOF0, four Huffman tables, SOS header, EOI) and
    # 48 bytes of entropy-coded data for the 64 flat 8x8 blocks.
    self.assertEqual(len(coded.data), 378)
    self.assertEqual(coded.header_bytes, 330)

  def test_jpeg_header_is_everything_but_the_scan(self):
    coded = image_codecs.code_image("jpeg", _image((32, 32)), 75)
    head = int(coded.header_bytes)
    sos = coded.data.find(b"\xff\xda")
    length = int.from_bytes(coded.data[sos + 2:sos + 4], "big")
    self.assertEqual(head, sos + 2 + length + 2)
    self.assertEqual(coded.data[-2:], b"\xff\xd9")

  def test_avif_grey_honours_the_quality(self):
    img = _image((48, 72))
    sizes = [len(image_codecs.code_image("avif", img, q).data)
             for q in (10, 90)]
    self.assertLess(sizes[0], sizes[1] / 2)

  def test_float_uint8_conversion(self):
    x = np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4, 1)
    u = image_codecs.to_uint8(x)
    self.assertEqual(u.shape, (3, 4))
    np.testing.assert_allclose(image_codecs.to_unit_float(u, 1), x,
                               atol=0.5 / 255)

  def test_missing_libraries_name_the_pip_package(self):
    real = importlib.import_module

    def no(names):
      def fake(name, *a, **k):
        if name in names:
          raise ImportError(name)
        return real(name, *a, **k)
      return fake

    with mock.patch.object(importlib, "import_module", no({"imagecodecs"})):
      with self.assertRaisesRegex(ImportError, "pip install imagecodecs"):
        image_codecs.code_image("jpeg2000", _image((16, 16)), 30.0)
    with mock.patch.object(importlib, "import_module", no({"PIL.Image"})):
      with self.assertRaisesRegex(ImportError, "pip install Pillow"):
        image_codecs.code_image("jpeg", _image((16, 16)), 50)
    ic = real("imagecodecs")
    with mock.patch.object(ic.JPEGXL, "available", False):
      with self.assertRaisesRegex(ImportError, "no jpegxl codec.*pip install "
                                  "imagecodecs"):
        image_codecs.check_available("jpegxl")
    with self.assertRaisesRegex(ValueError, "unknown"):
      image_codecs.check_available("bpg")
    with self.assertRaisesRegex(ValueError, "uint8"):
      image_codecs.encode("jpeg", np.zeros((4, 4)), 50)


if __name__ == "__main__":
  absltest.main()
