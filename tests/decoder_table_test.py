"""Tests of the scalar decoder's piecewise-linear table."""

import numpy as np
from absl.testing import absltest, parameterized
from flax import nnx

from ndc_jax.codec.tables import decoder as decoder_table
from ndc_jax.core import nets
from ndc_jax.wyner_ziv import models

K = 8


def _decoder(hidden, seed=0):
  """A random scalar `models.Decoder` and its layers as numpy arrays."""
  dec = models.Decoder(1, K, hidden, rngs=nnx.Rngs(seed))
  dec.skip[...] = dec.skip[...] * 0.7  # a skip factor other than 1
  layers = nnx.to_pure_dict(nnx.state(dec))["net"]["layers"]
  kernels = [np.asarray(layers[i]["kernel"]) for i in sorted(layers)]
  biases = [np.asarray(layers[i]["bias"]) for i in sorted(layers)]
  return dec, kernels, biases, float(dec.skip[...][0])


def _float64_decoder(kernels, biases, skip, u, y):
  """The decoder evaluated in float64, a plain forward pass: u [N], y [N]."""
  h = kernels[0][u].astype(np.float64) + np.outer(y, kernels[0][K]) + biases[0]
  for w, b in zip(kernels[1:], biases[1:]):
    h = np.where(h > 0, h, nets.LEAKY_SLOPE * h) @ w.astype(np.float64) + b
  return skip * y + h[:, 0]


class DecoderTableTest(parameterized.TestCase):

  @parameterized.parameters((16,), (16, 16), (12, 10, 8))
  def test_equals_the_network_in_float64(self, *hidden):
    dec, kernels, biases, skip = _decoder(hidden)
    table = decoder_table.build(kernels, biases, skip, -3.0, 3.0, cells=64)
    self.assertGreater(table.ends.size, K * 4)  # the pieces were found
    rng = np.random.RandomState(0)
    u = rng.randint(0, K, 20_000)
    y = rng.uniform(-3, 3, 20_000).astype(np.float32)
    got = decoder_table.evaluate(table, u, y)
    want = _float64_decoder(kernels, biases, skip, u, y.astype(np.float64))
    np.testing.assert_allclose(got, want.astype(np.float32), rtol=1e-6,
                               atol=1e-6)
    net = np.asarray(dec.at_indices(u, y[:, None]))[:, 0]  # float32 network
    np.testing.assert_allclose(got, net, rtol=1e-5, atol=1e-5)

  def test_pieces_are_linear_and_meet_at_the_breakpoints(self):
    _, kernels, biases, skip = _decoder((16, 16), seed=1)
    table = decoder_table.build(kernels, biases, skip, -3.0, 3.0, cells=16)
    last = np.isinf(table.ends)
    self.assertEqual(last.sum(), K)  # each index's last piece ends at inf
    p = np.flatnonzero(~last)
    t = table.ends[p]  # each breakpoint, from the piece on its left
    left = table.slopes[p] * t + table.intercepts[p]
    right = table.slopes[p + 1] * t + table.intercepts[p + 1]
    np.testing.assert_allclose(left, right, atol=1e-9)  # continuous
    u = np.concatenate([[0], np.cumsum(last)[:-1]])[p]  # each piece's index
    inside = t + 1e-7 < table.ends[p + 1]  # a point just right of t
    t_in = t[inside] + 1e-7
    np.testing.assert_allclose(
        table.slopes[p + 1][inside] * t_in + table.intercepts[p + 1][inside],
        _float64_decoder(kernels, biases, skip, u[inside], t_in), atol=1e-9)

  @parameterized.parameters(1, 7, 64)
  def test_right_piece_at_breakpoints_and_cell_edges(self, cells):
    _, kernels, biases, skip = _decoder((16, 16), seed=3)
    table = decoder_table.build(kernels, biases, skip, -3.0, 3.0, cells)
    last = np.isinf(table.ends)
    u = np.concatenate([[0], np.cumsum(last)[:-1]])[~last]
    edges = -3.0 + np.arange(cells + 1) * (6.0 / cells)
    at = np.concatenate([table.ends[~last], np.tile(edges, K)])
    u = np.concatenate([u, np.repeat(np.arange(K), cells + 1)])
    # Each point and its float64 neighbours, as float64 samples (evaluate
    # takes float32 too; float64 probes every side of a breakpoint).
    y = np.clip(np.concatenate([np.nextafter(at, -np.inf), at,
                                np.nextafter(at, np.inf)]), -3.0, 3.0)
    u = np.tile(u, 3)
    np.testing.assert_allclose(
        decoder_table.evaluate(table, u, y),
        _float64_decoder(kernels, biases, skip, u, y).astype(np.float32),
        rtol=1e-6, atol=1e-6)

  def test_outside_the_range_is_nan(self):
    _, kernels, biases, skip = _decoder((16,))
    table = decoder_table.build(kernels, biases, skip, -1.0, 2.0)
    with np.errstate(all="raise"):  # no overflow on the way to NaN
      out = decoder_table.evaluate(table, [0, 1, 2, 3, 4, 5], np.float32(
          [-1.5, -1.0, 2.0, 2.5, -3e38, 3e38]))
    np.testing.assert_array_equal(np.isnan(out),
                                  [True, False, False, True, True, True])

  def test_many_breakpoints_in_one_cell(self):
    _, kernels, biases, skip = _decoder((32, 32), seed=2)
    table = decoder_table.build(kernels, biases, skip, -3.0, 3.0, cells=1)
    self.assertGreater(table.steps, 10)
    u = np.arange(K).repeat(500)
    y = np.tile(np.linspace(-3, 3, 500, dtype=np.float32), K)
    np.testing.assert_allclose(
        decoder_table.evaluate(table, u, y),
        _float64_decoder(kernels, biases, skip, u, y.astype(np.float64)),
        rtol=1e-6, atol=1e-6)

  @parameterized.parameters((1.0, 1.0, 8), (2.0, -1.0, 8), (0.0, np.inf, 8),
                            (0.0, 1.0, 0))
  def test_bad_range_or_cells(self, lo, hi, cells):
    _, kernels, biases, skip = _decoder((16,))
    with self.assertRaisesRegex(ValueError, "allowed: finite lo < hi"):
      decoder_table.build(kernels, biases, skip, lo, hi, cells)

  def test_layers_that_do_not_chain(self):
    _, kernels, biases, skip = _decoder((16, 12))
    with self.assertRaisesRegex(ValueError, r"allowed: \[K \+ 1, h1\]"):
      decoder_table.build([kernels[0], kernels[2]], biases[::2], skip, -1, 1)
    with self.assertRaisesRegex(ValueError, r"allowed: \[K \+ 1, h1\]"):
      decoder_table.build(kernels, biases[::-1], skip, -1, 1)
    with self.assertRaisesRegex(ValueError, r"allowed: \[K \+ 1, h1\]"):
      decoder_table.build(kernels[:2], biases[:2], skip, -1, 1)


if __name__ == "__main__":
  absltest.main()
