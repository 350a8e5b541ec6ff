"""The codec never returns what it did not encode: wrong side information,
forged headers (with valid CRCs), wrong counts and payloads are errors."""

import struct
import zlib

import constriction
import jax
import numpy as np
from absl.testing import absltest, parameterized
from hypothesis import given, settings, strategies as st

from experiments.configs import wyner_ziv
from ndc_jax.codec import api as codec
from ndc_jax.codec import container, integer_prior
from ndc_jax.wyner_ziv import train

N = 600
_MODELS = {}
_FILES = {}
_HEAD = struct.Struct("<4sBBBB8sIHHII")  # the version-4 header before its CRC


def _model(rate_model="conditional", seed=0):
  """An untrained tiny scalar model (the codec works for any parameters)."""
  if (rate_model, seed) not in _MODELS:
    cfg = wyner_ziv.get_config("quick").arms.gaussian_conditional
    cfg.model.rate_model = rate_model
    trainer = train.make_train(cfg)
    params = trainer.compressor.init(jax.random.key(seed))
    _MODELS[rate_model, seed] = codec.make_model(
        trainer.compressor, trainer.source, params, 10.0)
  return _MODELS[rate_model, seed]


def _data(model, n=N, seed=1):
  x, y = model.source.sample(jax.random.key(seed), n)
  return np.asarray(x), np.asarray(y)


def _forge(data: bytes, payload: bytes | None = None, **fields) -> bytes:
  """The file with header fields replaced (and/or another payload) and a
  valid container CRC, so that only the decoder's own checks can object."""
  names = ("magic", "version", "mode", "rate_model", "reserved", "hash",
           "num_samples", "block", "num_indices", "size", "index_crc")
  values = dict(zip(names, _HEAD.unpack_from(data)))
  payload = data[container.HEADER_BYTES:] if payload is None else payload
  values["size"] = len(payload)
  values.update(fields)
  head = _HEAD.pack(*(values[k] for k in names))
  return head + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))) + (
      payload)


class Files(parameterized.TestCase):

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls.cond, cls.marg = _model("conditional"), _model("marginal")
    cls.x, cls.y = _data(cls.cond)
    if not _FILES:  # once for every test class
      _FILES.update({
          "marginal": codec.compress_with_info(cls.marg, cls.x),
          "conditional": codec.compress_with_info(cls.cond, cls.x,
                                                  "conditional", y=cls.y),
          "slepian_wolf": codec.compress_with_info(cls.cond, cls.x,
                                                   "slepian_wolf",
                                                   sw_block=300),
      })
    cls.files = _FILES

  def _model_of(self, mode):
    return self.marg if mode == "marginal" else self.cond

  def _decode(self, mode, data, y=None):
    """The decoded indices, or the exception the decoder raised."""
    try:
      return codec.decompress_indices(self._model_of(mode), data,
                                      self.y if y is None else y)
    except (container.FormatError, codec.DecodingError) as e:
      return e


class WrongSideInformationTest(Files):

  @parameterized.parameters(
      ("shifted by 0.02", lambda y: y + 0.02),
      ("float16", lambda y: y.astype(np.float16).astype(np.float32)),
      ("rounded to 1e-3", lambda y: np.round(y, 3)),
      ("independent", lambda y: np.random.RandomState(5).permutation(y)))
  def test_conditional_modes_refuse_other_side_information(self, _, change):
    for mode in ("conditional", "slepian_wolf"):
      got = self._decode(mode, self.files[mode][0], change(self.y))
      if isinstance(got, np.ndarray):  # only the encoder's indices may come
        np.testing.assert_array_equal(got, self.files[mode][1]["u"])
      else:
        self.assertIsInstance(got, codec.DecodingError)
    with self.assertRaisesRegex(codec.DecodingError, "side information"):
      codec.decompress(self.cond, self.files["conditional"][0],
                       np.random.RandomState(5).permutation(self.y))

  @settings(max_examples=25, deadline=None)
  @given(st.floats(1e-6, 0.3), st.integers(0, N - 1), st.booleans())
  def test_perturbed_y_decodes_right_or_raises(self, eps, row, one_row):
    y = self.y.copy()
    if one_row:
      y[row] += eps
    else:
      y += eps * np.random.RandomState(row).standard_normal(y.shape)
    got = self._decode("conditional", self.files["conditional"][0], y)
    if isinstance(got, np.ndarray):
      np.testing.assert_array_equal(got, self.files["conditional"][1]["u"])


class ForgedHeaderTest(Files):

  @parameterized.parameters("marginal", "conditional", "slepian_wolf")
  def test_forged_index_crc_is_a_decoding_error(self, mode):
    data, info = self.files[mode]
    crc = container.index_crc(info["u"])
    got = self._decode(mode, _forge(data, index_crc=crc ^ 1))
    self.assertIsInstance(got, codec.DecodingError)
    self.assertIn("CRC-32", str(got))
    if mode == "marginal":  # marginal decoding does not use y: not blamed
      self.assertIn("marginal decoding does not use y", str(got))

  @parameterized.product(mode=["marginal", "conditional", "slepian_wolf"],
                         delta=[-1, 1, 50])
  def test_forged_counts_raise(self, mode, delta):
    data, _ = self.files[mode]
    n = N + delta
    y = np.resize(self.y, (n, 1))
    got = self._decode(mode, _forge(data, num_samples=n), y)
    self.assertIsInstance(got, (container.FormatError, codec.DecodingError))

  def test_huge_marginal_count_is_refused_before_decoding(self):
    data, _ = self.files["marginal"]
    for n in (2**31, 2**32 - 1, 10**7):
      with self.assertRaisesRegex(container.FormatError,
                                  "holds at most .* indices"):
        codec.decompress_indices(self.marg, _forge(data, num_samples=n))

  def test_huge_counts_with_side_information_of_that_length(self):
    # the conditional modes' count is backed by y; the payload still limits
    big = 3 * 10**5
    y = np.resize(self.y, (big, 1))
    for mode in ("conditional", "slepian_wolf"):
      got = self._decode(mode, _forge(self.files[mode][0],
                                       num_samples=big), y)
      self.assertIsInstance(got, container.FormatError, mode)
      self.assertRegex(str(got), "forged")

  @parameterized.parameters("marginal", "conditional")
  def test_empty_and_short_ans_payloads(self, mode):
    data, _ = self.files[mode]
    for payload in (b"", b"\0\0\0\0", b"\1\2\3\4\5\6\7\x08"):
      got = self._decode(mode, _forge(data, payload))
      self.assertIsInstance(got, (container.FormatError,
                                  codec.DecodingError), payload)

  @parameterized.parameters("marginal", "conditional", "slepian_wolf")
  def test_payload_of_another_file(self, mode):
    data, _ = self.files[mode]
    model = self._model_of(mode)
    x2, y2 = _data(model, seed=9)
    other = codec.compress(model, x2, mode, y=y2 if mode == "conditional"
                           else None, sw_block=300)
    got = self._decode(mode, _forge(data, other[container.HEADER_BYTES:]))
    self.assertIsInstance(got, (container.FormatError, codec.DecodingError))

  @settings(max_examples=40, deadline=None)
  @given(st.sampled_from(["marginal", "conditional", "slepian_wolf"]),
         st.data())
  def test_payload_flips_with_valid_crc_never_decode_silently(self, mode,
                                                               draw):
    data, info = self.files[mode]
    pos = draw.draw(st.integers(8 * container.HEADER_BYTES,
                                8 * len(data) - 1))
    bad = bytearray(data)
    bad[pos // 8] ^= 1 << (pos % 8)
    got = self._decode(mode, _forge(bytes(bad)))
    if isinstance(got, np.ndarray):  # e.g. a flip in a syndrome's padding
      np.testing.assert_array_equal(got, info["u"])

  def test_old_unknown_versions_and_reserved_byte(self):
    data, _ = self.files["marginal"]
    for old in (1, 2, 3):
      with self.assertRaisesRegex(container.FormatError,
                                  f"version {old} is an old .* compress x "
                                  "again"):
        container.unpack(data[:4] + bytes([old]) + data[5:])
    with self.assertRaisesRegex(container.FormatError,
                                "version 9 is unknown"):
      container.unpack(data[:4] + bytes([9]) + data[5:])
    with self.assertRaisesRegex(container.FormatError, "reserved"):
      container.unpack(_forge(data, reserved=1))
    # an old file shorter than today's header still names its version
    with self.assertRaisesRegex(container.FormatError, "version 3"):
      container.unpack(b"NDCJ\x03" + bytes(20))


class AnsCountBoundTest(parameterized.TestCase):

  def test_the_bound_holds_for_any_pmf_and_indices(self):
    # `_ans_min_bits`: P words code at most (32 P - 32) / b(p_max) indices,
    # tight when every index is the most probable one
    rng = np.random.default_rng(0)
    ratio = 0.0
    for trial in range(80):
      k = int(rng.integers(2, 70))
      pmf = integer_prior.pmf(integer_prior.quantize_logits(
          rng.normal(0, rng.choice([0.5, 5, 30]), (1, k))))[0]
      n = int(rng.choice([1, 50, 5000]))
      u = (np.full(n, np.argmax(pmf)) if trial % 2 else
           rng.choice(k, n, p=pmf / pmf.sum()))
      coder = constriction.stream.stack.AnsCoder()
      coder.encode_reverse(codec.ANS_TERMINATOR, codec._ANS_TERMINATOR_MODEL)
      coder.encode_reverse(u.astype(np.int32),
                           constriction.stream.model.Categorical(
                               codec._coder_scale(pmf), perfect=False))
      words = coder.get_compressed().size
      most = (32 * words - 32) / codec._ans_min_bits(pmf.max() + k)
      ratio = max(ratio, n / most)
    self.assertLessEqual(ratio, 1.0)
    self.assertGreater(ratio, 0.9)  # and it is nearly tight


if __name__ == "__main__":
  absltest.main()
