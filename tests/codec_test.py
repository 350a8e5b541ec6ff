"""Tests of the codec: exact integer priors, round trips, rates, bad input."""

import struct
import zlib
from unittest import mock

import chex
import jax
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest, parameterized
from hypothesis import given, settings, strategies as st

from experiments.configs import wyner_ziv
from ndc_jax.codec import api as codec
from ndc_jax.codec import container
from ndc_jax.codec.tables import encoder as encoder_table
from ndc_jax.codec import integer_prior
from ndc_jax.codec.tables import prior as prior_table
from ndc_jax.wyner_ziv import train

N = 3000
_MODELS = {}


def _model(rate_model="conditional", dim=1, seed=0):
  """An untrained tiny model (the codec works for any parameters)."""
  key = (rate_model, dim, seed)
  if key not in _MODELS:
    cfg = wyner_ziv.get_config("quick").arms.gaussian_conditional
    cfg.model.rate_model, cfg.source.dim = rate_model, dim
    trainer = train.make_train(cfg)
    params = trainer.compressor.init(jax.random.key(seed))
    _MODELS[key] = codec.make_model(trainer.compressor, trainer.source,
                                    params, 10.0)
  return _MODELS[key]


def _data(model, n=N, seed=1):
  x, y = model.source.sample(jax.random.key(seed), n)
  return np.asarray(x), np.asarray(y)


def _recrc(data: bytes) -> bytes:
  """Rewrites the container CRC so that only inner checks can object."""
  head, payload = data[:32], data[36:]
  return head + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))) + (
      payload)


class IntegerPriorTest(parameterized.TestCase):

  @settings(max_examples=50, deadline=None)
  @given(st.lists(st.floats(-1e4, 1e4), min_size=2, max_size=70))
  def test_pmf_is_normalized_and_positive(self, logits):
    f = integer_prior.pmf(integer_prior.quantize_logits([logits]))
    self.assertEqual(int(f.sum()), 2**integer_prior.PRECISION)
    self.assertGreaterEqual(int(f.min()), 1)

  def test_pmf_matches_softmax_and_rows_are_independent(self):
    logits = np.random.default_rng(0).normal(0, 3, (50, 16)).astype(np.float32)
    f = integer_prior.pmf(integer_prior.quantize_logits(logits))
    np.testing.assert_allclose(f / 2.0**integer_prior.PRECISION,
                               jax.nn.softmax(logits), rtol=2.0**-8,
                               atol=2.0**-22)  # 2^-8-nat logit grid
    row = integer_prior.pmf(integer_prior.quantize_logits(logits[7:8]))
    np.testing.assert_array_equal(row[0], f[7])

  def test_fixed_point_prior_is_exact_and_close_to_the_float_model(self):
    model = _model("conditional")
    _, y = _data(model, 500)
    z = model.prior_mlp.logits(y)
    np.testing.assert_array_equal(z, np.rint(z))  # integers
    np.testing.assert_array_equal(z[100:101], model.prior_mlp.logits(y[100:101]))
    comp = model.compressor
    for fn in (comp.prior_logits, jax.jit(comp.prior_logits)):
      np.testing.assert_allclose(z * 2.0**-integer_prior.FRAC_BITS,
                                 fn(model.params, jnp.asarray(y)), atol=1e-3)

  def test_marginal_pmf_does_not_depend_on_jit(self):
    model = _model("marginal")
    comp = model.compressor
    y = jnp.zeros((1, 1))
    for fn in (comp.prior_logits, jax.jit(comp.prior_logits)):
      np.testing.assert_array_equal(
          integer_prior.marginal_pmf(fn(model.params, y)[0]),
          model.marginal_pmf)


class RoundTripTest(parameterized.TestCase):

  @parameterized.product(case=[("marginal", "marginal"),
                               ("conditional", "conditional"),
                               ("conditional", "slepian_wolf")],
                         dim=[1, 2])
  def test_round_trip(self, case, dim):
    rate_model, mode = case
    model = _model(rate_model, dim)
    x, y = _data(model)
    data, info = codec.compress_with_info(
        model, x, mode, y=y if mode == "conditional" else None, sw_block=1000)
    u = codec.decompress_indices(model, data, y)
    np.testing.assert_array_equal(u, info["u"])
    x_hat = codec.decompress(model, data, y)
    chex.assert_shape(x_hat, (N, dim))
    np.testing.assert_array_equal(x_hat, codec.reconstruct(model, u, y))
    direct = model.compressor.decode(
        model.params, jax.nn.one_hot(info["u"], model.num_indices), y)
    np.testing.assert_allclose(x_hat, direct, atol=1e-5)

  @parameterized.parameters("marginal", "conditional")
  def test_encoder_table_agrees_with_the_network(self, rate_model):
    model = _model(rate_model)
    table = model.encoder_table
    self.assertGreater(table.thresholds.size, 2)
    x = np.random.RandomState(2).standard_normal(10**5).astype(np.float32)
    x = np.concatenate([x, table.thresholds, [-50.0, 50.0]]).astype(
        np.float32)  # ±50: outside the table, the network answers
    u = codec.encode_indices(model, x)
    net = model.fns["encode"](model.params, x[:, None])
    bad = np.flatnonzero(u != net)
    # Where the top two logits tie to rounding the network's argmax flips
    # back and forth over a few float32 ulps; only there may the table differ.
    nearest = np.abs(encoder_table._key(x[bad])[:, None] -
                     encoder_table._key(table.thresholds)[None]).min(axis=1)
    self.assertLessEqual(bad.size, 10)
    np.testing.assert_array_less(nearest, 8)

  def test_vector_encoders_have_no_table(self):
    self.assertIsNone(_model("marginal", dim=2).encoder_table)
    self.assertIsNone(_model("conditional", dim=2).prior_table)
    self.assertIsNone(_model("conditional", dim=2).decoder_table)

  def test_decoder_table_agrees_with_the_network(self):
    model = _model("marginal")
    x, y = _data(model, 5000)
    y = y.copy()
    y[:3, 0] = [-50.0, 50.0, model.decoder_table.hi]  # ±50: the network
    u = codec.encode_indices(model, x)
    x_hat = codec.reconstruct(model, u, y)
    net = model.fns["decode"](model.params, u.astype(np.int32), y)
    np.testing.assert_array_equal(x_hat[:2], net[:2])
    np.testing.assert_allclose(x_hat, net, rtol=1e-5, atol=1e-5)

  def test_prior_table_codes_with_the_nearest_grid_points_pmf(self):
    model = _model("conditional")
    table = model.prior_table
    x, y = _data(model, 2000)
    y = y.copy()
    y[:2, 0] = [-50.0, 50.0]  # outside the table: the MLP answers
    rows = prior_table.lookup(table, y[:, 0])
    np.testing.assert_array_equal(rows[:2], -1)
    grid = np.linspace(table.lo, table.hi, codec.PRIOR_GRID,
                       dtype=np.float32)[:, None]
    at = np.where(rows[:, None] >= 0, grid[rows], y)
    np.testing.assert_array_equal(
        codec._coder_probs(model, y),
        model.prior_mlp.pmf(at) * 2.0**-integer_prior.PRECISION)
    data = codec.compress(model, x, "conditional", y=y)
    with mock.patch.object(codec, "ANS_ROWS", 300):  # several passes
      self.assertEqual(codec.compress(model, x, "conditional", y=y), data)
      np.testing.assert_array_equal(
          codec.decompress_indices(model, data, y),
          codec.encode_indices(model, x))

  def test_one_dimensional_input_for_scalar_sources(self):
    model = _model("marginal")
    x, y = _data(model, 100)
    data = codec.compress(model, x[:, 0])
    np.testing.assert_array_equal(codec.decompress(model, data, y[:, 0]),
                                  codec.decompress(model, data, y))

  @parameterized.parameters("marginal", "conditional")
  def test_measured_bits_match_estimate_on_a_small_sweep(self, rate_model):
    for seed in (0, 1):
      model = _model(rate_model, seed=seed)
      x, y = _data(model, 20_000)
      data, info = codec.compress_with_info(
          model, x, rate_model, y=y if rate_model == "conditional" else None)
      est = codec.estimate_bits(model, info["u"], y)
      measured = 8 * (len(data) - container.HEADER_BYTES) / x.shape[0]
      self.assertLess(abs(measured / est - 1), 0.01, (seed, measured, est))


class BadInputTest(parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.model = _model("conditional")
    cls.x, cls.y = _data(cls.model, 500)
    cls.data = codec.compress(cls.model, cls.x, "conditional", y=cls.y)
    cls.sw = codec.compress(cls.model, cls.x, "slepian_wolf", sw_block=256)

  def _raises(self, exc, regex, data=None, y=None):
    with self.assertRaisesRegex(exc, regex):
      codec.decompress(self.model, self.data if data is None else data,
                       self.y if y is None else y)

  def test_truncated_and_empty_files(self):
    self._raises(container.FormatError, "truncated", self.data[:-1])
    self._raises(container.FormatError, "truncated", self.data[:10])
    self._raises(container.FormatError, "truncated", b"")

  def test_wrong_magic_and_version(self):
    self._raises(container.FormatError, "magic", b"XXXX" + self.data[4:])
    self._raises(container.FormatError, "version",
                 self.data[:4] + bytes([9]) + self.data[5:])

  @settings(max_examples=30, deadline=None)
  @given(st.data())
  def test_flipped_bits_are_caught(self, draw):
    pos = draw.draw(st.integers(0, 8 * len(self.data) - 1))
    flipped = bytearray(self.data)
    flipped[pos // 8] ^= 1 << (pos % 8)
    with self.assertRaises(container.FormatError):
      codec.decompress(self.model, bytes(flipped), self.y)

  @settings(max_examples=20, deadline=None)
  @given(st.data())
  def test_corrupt_slepian_wolf_payload_never_decodes_silently(self, draw):
    pos = draw.draw(st.integers(8 * 40, 8 * len(self.sw) - 1))
    bad = bytearray(self.sw)
    bad[pos // 8] ^= 1 << (pos % 8)
    try:
      u = codec.decompress_indices(self.model, _recrc(bytes(bad)), self.y)
    except (container.FormatError, codec.DecodingError):
      return
    # Only flips in the zero padding of a packed syndrome may decode.
    np.testing.assert_array_equal(
        u, codec.decompress_indices(self.model, self.sw, self.y))

  def test_parameters_of_another_model(self):
    other = _model("conditional", seed=3)
    with self.assertRaisesRegex(container.FormatError, "another model"):
      codec.decompress(other, self.data, self.y)

  def test_side_information_of_wrong_length_or_shape(self):
    self._raises(ValueError, "samples", y=self.y[:-1])
    self._raises(ValueError, "shape", y=np.zeros((500, 2), np.float32))
    self._raises(ValueError, "shape", y=np.zeros((500, 1, 1), np.float32))
    self._raises(ValueError, "empty", y=np.zeros((0, 1), np.float32))

  @parameterized.parameters(np.nan, np.inf, -np.inf)
  def test_non_finite_values(self, value):
    bad = self.x.copy()
    bad[17, 0] = value
    with self.assertRaisesRegex(ValueError, "non-finite.*row 17"):
      codec.compress(self.model, bad, "slepian_wolf")
    self._raises(ValueError, "non-finite", y=bad)

  def test_reconstruct_rejects_bad_indices(self):
    model = _model("marginal")
    _, y = _data(model, 4)
    for bad in ([0, 1, 2, 16], [-1, 0, 0, 0], [0, 1, 2], [0.0, 1.0, 2.0, 3.0]):
      with self.assertRaisesRegex(ValueError, r"integers in \[0, 16\)"):
        codec.reconstruct(model, np.asarray(bad), y)

  def test_grid_points_outside_the_arm(self):
    lmbdas = np.asarray([100.0, 300.0], np.float32)
    codec.check_grid_points("arm", lmbdas, [0, 1])
    with self.assertRaisesRegex(ValueError, r"grid points \[2, -1\] are not in "
                                r"arm 'arm'; allowed: 0 to 1 \(λ = \[100.0, "
                                r"300.0\]\)"):
      codec.check_grid_points("arm", lmbdas, [0, 2, -1])

  def test_empty_input_and_bad_modes(self):
    with self.assertRaisesRegex(ValueError, "empty"):
      codec.compress(self.model, np.zeros((0, 1)), "slepian_wolf")
    with self.assertRaisesRegex(ValueError, "allowed"):
      codec.compress(self.model, self.x, "marginal")
    with self.assertRaisesRegex(ValueError, "needs y"):
      codec.compress(self.model, self.x, "conditional")
    with self.assertRaisesRegex(ValueError, "does not take y"):
      codec.compress(self.model, self.x, "slepian_wolf", y=self.y)

  def test_garbage_bytes(self):
    with self.assertRaises(container.FormatError):
      codec.decompress(self.model, bytes(range(200)), self.y)
    with self.assertRaises(TypeError):
      codec.decompress(self.model, "not bytes", self.y)


if __name__ == "__main__":
  absltest.main()
