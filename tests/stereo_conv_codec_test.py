"""The stereo codec as a codec (`ndc_jax.stereo.bitstream`, `model`,
`gaussian`, `vq`): real files decode to the encoder's symbols for every
entropy model, their length is what the entropy model predicts, the file
does not depend on view 2, training is deterministic, and bad input is
refused with a message naming the value."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl.testing import absltest, parameterized

from ndc_jax.core import entropy_model as em
from ndc_jax.stereo import bitstream, data, gaussian, model, train, vq

H, W = 20, 44  # not multiples of 4: the codec pads and crops


def tiny_arm(entropy="factorized", fusion="concat", num_steps=2):
  cfg = train.arm(entropy=entropy, fusion=fusion, lmbdas=(0.01,),
                  num_steps=num_steps, filters=6, latent_channels=5,
                  downsamples=2, crop=(16, 16), batch_size=2)
  cfg.model.kernel = cfg.model.synthesis_kernel = 3
  cfg.model.codebook_size = 8
  cfg.train.chunk_steps = num_steps
  return cfg


def pair(seed=0, shape=(H, W, 3)):
  """A smooth random view and a shifted, noisy copy as view 2."""
  rng = np.random.default_rng(seed)
  x1 = np.clip(np.cumsum(rng.normal(0, 0.05, shape), 1) + 0.5, 0, 1)
  x2 = np.clip(np.roll(x1, 2, 1) + rng.normal(0, 0.02, shape), 0, 1)
  return x1.astype(np.float32), x2.astype(np.float32)


_CODERS = {}


def coder_params(entropy="factorized"):
  """A coder of the tiny arm (compiled once per test run) and its params."""
  if entropy not in _CODERS:
    codec = model.make_codec(tiny_arm(entropy).model)
    _CODERS[entropy] = bitstream.Coder(codec, entropy)
  coder = _CODERS[entropy]
  return coder, coder.codec.init_params(jax.random.key(0))


class BitstreamTest(parameterized.TestCase):

  @parameterized.parameters(*model.ENTROPY)
  def test_file_decodes_to_the_encoders_symbols(self, entropy):
    coder, params = coder_params(entropy)
    x1, x2 = pair()
    file = coder.compress(params, x1, 0.01)
    dec = coder.decompress(params, file, x2)
    sym = coder.symbols(params, x1, 0.01)
    self.assertEqual(sorted(sym), sorted(dec.symbols))
    for k in sym:
      np.testing.assert_array_equal(sym[k], dec.symbols[k])
    self.assertEqual(dec.image.shape, (H, W, 3))
    self.assertTrue(np.all(np.isfinite(dec.image)))
    self.assertGreater(bitstream.header_bytes(file), 4)

  def test_file_does_not_depend_on_view_2_but_the_decoder_does(self):
    coder, params = coder_params()
    x1, x2 = pair(0)
    _, other = pair(1)
    # The file of view 1 is the same whatever view 2 the decoder holds ...
    file = coder.compress(params, x1, 0.01)
    self.assertEqual(file, coder.compress(params, x1.copy(), 0.01))
    # ... and in training the rate has no gradient wrt view 2, the
    # distortion has (the decoder uses it).
    trainer = train.make_train(tiny_arm(), (x1, x2))
    state = trainer.init(jax.random.key(0))
    crop = lambda v: jnp.asarray(v[None, :16, :16])
    def rate_and_distortion(v):
      m = trainer.loss(state.params, crop(x1), v, jnp.ones((1, 16, 16, 1)),
                       0.01, 0.0, state.mine_ma, jax.random.key(1))[1][0]
      return jnp.stack([m["bpp"], m["mse"]])
    jac = jax.jacrev(rate_and_distortion)(crop(x2))  # [2, 1, 16, 16, 3]
    self.assertEqual(float(jnp.abs(jac[0]).max()), 0.0)
    self.assertGreater(float(jnp.abs(jac[1]).max()), 0.0)
    a = coder.decompress(params, file, x2).image
    b = coder.decompress(params, file, other).image
    self.assertGreater(float(np.abs(a - b).max()), 0.0)

  def test_factorized_bits_equal_the_coded_bytes_within_1pct(self):
    # The entropy model fitted to the latents of the Motorcycle test band;
    # the untrained analysis' last layer scaled by 20 so that the latents
    # spread over many integers, as a trained one's do.
    coder, params = coder_params()
    last = params["net"]["analysis"]["convs"][1]["w"]
    last[...] = 20.0 * last[...]
    x1 = data.motorcycle_splits()["test"][0][:, :320]
    y = coder.symbols(params, x1, 0.01)["y"].astype(np.float32)
    self.assertGreater(len(np.unique(y)), 8)
    opt = optax.adam(0.05)
    ent = params["entropy"]["y"]

    @jax.jit
    def fit(ent, state):
      g = jax.grad(lambda e: jnp.sum(em.bits(e, jnp.asarray(y))))(ent)
      upd, state = opt.update(g, state)
      return optax.apply_updates(ent, upd), state
    state = opt.init(ent)
    for _ in range(300):
      ent, state = fit(ent, state)
    params["entropy"]["y"] = ent
    file = coder.compress(params, x1, 0.01)
    est = coder.estimated_bits(params, coder.symbols(params, x1, 0.01))
    coded = 8 * (len(file) - bitstream.header_bytes(file))
    self.assertLess(abs(coded - est) / est, 0.01)

  def test_gaussian_bits_equal_the_coded_bytes_within_1pct(self):
    rng = np.random.default_rng(0)
    sigma = rng.uniform(0.11, 6.0, 20000)
    y = np.round(rng.normal(0, sigma)).astype(np.int64)
    words, lo, hi = gaussian.encode(y, sigma)
    est = float(jnp.sum(gaussian.bits(jnp.asarray(y, jnp.float32),
                                      jnp.asarray(sigma, jnp.float32))))
    self.assertLess(abs(32 * words.size - est) / est, 0.01)
    np.testing.assert_array_equal(gaussian.decode(words, lo, hi, sigma), y)

  @parameterized.parameters("hyperprior", "mean_scale")
  def test_hyper_latents_cover_latents_of_any_size(self, entropy):
    # 20 x 44 px -> y [1, 5, 11, M] (not multiples of 4): ẑ [1, 2, 3, F],
    # μ and σ cropped back to y's 5 x 11; the file round-trips.
    coder, params = coder_params(entropy)
    x1, x2 = pair()
    sym = coder.symbols(params, x1, 0.01)
    self.assertEqual(sym["y"].shape[:3], (1, 5, 11))
    self.assertEqual(sym["z"].shape[:3], (1, 2, 3))
    mu, sigma = coder.codec.conditionals(
        params, jnp.asarray(sym["z"], jnp.float32), (5, 11))
    self.assertEqual(mu.shape, sym["y"].shape)
    self.assertEqual(sigma.shape, sym["y"].shape)
    self.assertTrue(bool(jnp.all(sigma > 0)))
    dec = coder.decompress(params, coder.compress(params, x1, 0.01), x2)
    np.testing.assert_array_equal(dec.symbols["y"], sym["y"])

  @parameterized.parameters("hyperprior", "mean_scale")
  def test_hyper_analysis_extends_y_by_its_last_row_and_column(self, entropy):
    # y [1, 5, 11, M] ends mid-block: h_a sees rows 5-7 and column 11 as
    # copies of the last real ones, not zeros, so ẑ equals that of the
    # explicitly extended [1, 8, 12, M] y and differs from zero padding.
    coder, params = coder_params(entropy)
    y = jax.random.normal(jax.random.key(1), (1, 5, 11, 5)) * 3.0
    extended = jnp.concatenate([y] + [y[:, -1:]] * 3, 1)
    extended = jnp.concatenate([extended, extended[:, :, -1:]], 2)
    z = coder.codec.hyper(params, y)
    np.testing.assert_allclose(z, coder.codec.hyper(params, extended),
                               rtol=1e-5, atol=1e-5)
    zero = jnp.pad(y, ((0, 0), (0, 3), (0, 1), (0, 0)))
    self.assertGreater(float(jnp.max(jnp.abs(
        z - coder.codec.hyper(params, zero)))), 1e-3)

  def test_mean_scale_codes_the_residual_about_the_predicted_mean(self):
    coder, params = coder_params("mean_scale")
    # A non-zero predicted mean: the hyper synthesis' last bias moved.
    last = params["net"]["hyper_s"]["c3"]["b"]
    last[...] = last[...] + 0.7
    x1, _ = pair()
    sym = coder.symbols(params, x1, 0.01)
    y = coder.codec.encode(params, jnp.asarray(data.pad_to(x1, 4)[None]))
    mu, _ = coder.codec.conditionals(
        params, jnp.asarray(sym["z"], jnp.float32), y.shape[1:3])
    self.assertGreater(float(jnp.abs(mu).max()), 0.1)
    np.testing.assert_array_equal(sym["y"], np.round(np.asarray(y - mu)))
    # What the synthesis decodes: μ + the rounded residual.
    np.testing.assert_allclose(np.asarray(coder.codec.latents(params, sym)),
                               np.asarray(mu + sym["y"]), rtol=0, atol=1e-6)
    # The scale-only hyperprior predicts no mean.
    coder_s, params_s = coder_params("hyperprior")
    sym_s = coder_s.symbols(params_s, x1, 0.01)
    mu_s, _ = coder_s.codec.conditionals(
        params_s, jnp.asarray(sym_s["z"], jnp.float32), (5, 11))
    self.assertEqual(float(jnp.abs(mu_s).max()), 0.0)

  def test_vq_index_bits_equal_the_coded_bytes_within_1pct(self):
    logits = jnp.asarray(np.random.default_rng(1).normal(0, 1.5, 16),
                         jnp.float32)
    k = np.asarray(jax.random.categorical(jax.random.key(0), logits,
                                          shape=(20000,)))
    est = float(jnp.sum(vq.index_bits(logits)[k]))
    words = vq.encode(k, logits)
    self.assertLess(abs(32 * words.size - est) / est, 0.01)
    np.testing.assert_array_equal(vq.decode(words, logits, k.size), k)

  def test_vq_choice_trades_distortion_for_bits(self):
    cb = jnp.asarray([[0.0], [1.0]])
    logits = jnp.log(jnp.asarray([0.99, 0.01]))
    e = jnp.asarray([[0.8]])
    self.assertEqual(int(vq.select(e, cb, logits, 1e4)[0]), 1)  # nearest
    self.assertEqual(int(vq.select(e, cb, logits, 1.0)[0]), 0)  # cheaper


class TrainTest(parameterized.TestCase):

  def test_same_config_and_seed_give_the_same_numbers(self):
    trainer = train.make_train(tiny_arm(num_steps=2), pair(0, (24, 40, 3)))
    run = jax.jit(trainer.train)
    runs = [run(jnp.float32(0.01), jnp.float32(0.0), jax.random.key(3))
            for _ in range(2)]
    jax.tree.map(np.testing.assert_array_equal,
                 (runs[0][0].params, runs[0][1]),
                 (runs[1][0].params, runs[1][1]))
    self.assertTrue(np.all(np.isfinite(np.asarray(runs[0][1]["loss"]))))
    # Another seed trains another model.
    other = run(jnp.float32(0.01), jnp.float32(0.0), jax.random.key(4))
    self.assertFalse(np.array_equal(np.asarray(other[1]["loss"]),
                                    np.asarray(runs[0][1]["loss"])))

  @parameterized.parameters(*model.GAUSSIAN)
  def test_gaussian_models_train_and_their_rate_ignores_view_2(self, entropy):
    x1, x2 = pair(0, (24, 40, 3))
    trainer = train.make_train(tiny_arm(entropy), (x1, x2))
    params = trainer.init(jax.random.key(0)).params
    v1, v2 = jnp.asarray(x1[None, :16, :16]), jnp.asarray(x2[None, :16, :16])

    @jax.jit
    def loss_and_grads(params, v2):
      f = lambda p, v: trainer.loss(p, v1, v, jnp.ones((1, 16, 16, 1)), 0.01,
                                    0.0, jnp.ones((0,)), jax.random.key(1))
      (loss, (m, _)), g_params = jax.value_and_grad(f, has_aux=True)(params,
                                                                      v2)
      g_bpp = jax.grad(lambda v: f(params, v)[1][0]["bpp"])(v2)
      return loss, m["bpp"], g_params, g_bpp
    loss, bpp, g_params, g_bpp = loss_and_grads(params, v2)
    self.assertTrue(np.isfinite(float(loss)))
    self.assertGreater(float(bpp), 0.0)
    chex.assert_tree_all_finite(g_params)
    # The hyper transforms learn from the loss; the rate never sees view 2.
    g_hyper = jax.tree.leaves(g_params["net"]["hyper_a"])
    self.assertGreater(max(float(jnp.abs(g).max()) for g in g_hyper), 0.0)
    self.assertEqual(float(jnp.abs(g_bpp).max()), 0.0)

  def test_crops_take_both_views_of_one_random_pair(self):
    # Pair p's view v is the constant 10·p + v.
    value = 10 * np.arange(3)[:, None] + np.arange(2)  # [P, 2]
    pairs = np.broadcast_to(value[..., None, None, None].astype(np.uint8),
                            (3, 2, 8, 12, 3))
    x1, x2 = data.sample_crops(jnp.asarray(pairs), jax.random.key(0), 64,
                               (4, 4))
    self.assertEqual(x1.shape, (64, 4, 4, 3))
    v1 = np.round(np.asarray(x1) * 255).reshape(64, -1)
    v2 = np.round(np.asarray(x2) * 255).reshape(64, -1)
    np.testing.assert_array_equal(v1, v1[:, :1] + np.zeros_like(v1))
    np.testing.assert_array_equal(v2, v1 + 1)  # the same pair, view 2
    self.assertEqual(set(v1[:, 0]), {0.0, 10.0, 20.0})

  def test_one_pair_crops_draw_only_the_origins(self):
    # P = 1 (Motorcycle): origins from split(key), as before pair stacks.
    img = np.random.default_rng(0).integers(0, 256, (2, 10, 14, 3), np.uint8)
    key = jax.random.key(5)
    x1, x2 = data.sample_crops(jnp.asarray(img[None]), key, 6, (4, 8))
    kr, kc = jax.random.split(key)
    rows = np.asarray(jax.random.randint(kr, (6,), 0, 7))
    cols = np.asarray(jax.random.randint(kc, (6,), 0, 7))
    for b, (r, c) in enumerate(zip(rows, cols)):
      for v, x in ((0, x1), (1, x2)):
        np.testing.assert_array_equal(np.round(np.asarray(x[b]) * 255),
                                      img[v, r:r + 4, c:c + 8])


  def test_edge_padded_crops_are_what_pad_to_makes_of_the_kept_part(self):
    # Crops [B, 12, 20]; multiple 8: p_h, p_w in {0, ..., 7}.
    rng = np.random.default_rng(0)
    x1 = rng.uniform(size=(256, 12, 20, 3)).astype(np.float32)
    x2 = rng.uniform(size=(256, 12, 20, 3)).astype(np.float32)
    p1, p2, valid = (np.asarray(a) for a in data.edge_pad_crops(
        jnp.asarray(x1), jnp.asarray(x2), jax.random.key(0), 8))
    kept_h = valid[:, :, 0, 0].sum(1).astype(int)
    kept_w = valid[:, 0, :, 0].sum(1).astype(int)
    self.assertEqual(set(12 - kept_h), set(range(8)))
    self.assertEqual(set(20 - kept_w), set(range(8)))
    for b in range(256):
      h, w = kept_h[b], kept_w[b]
      np.testing.assert_array_equal(valid[b, :h, :w], 1.0)
      self.assertEqual(valid[b].sum(), h * w)
      for x, p in ((x1, p1), (x2, p2)):
        # The kept part edge-padded back to the crop's size, as pad_to pads.
        want = np.pad(x[b, :h, :w], ((0, 12 - h), (0, 20 - w), (0, 0)),
                      mode="edge")
        np.testing.assert_array_equal(p[b], want)

  def test_the_loss_measures_distortion_on_valid_pixels_only(self):
    cfg = tiny_arm()
    cfg.train.edge_pad = True
    x1, x2 = pair(0)
    trainer = train.make_train(cfg, (x1, x2))
    params = trainer.init(jax.random.key(0)).params
    v1, v2 = jnp.asarray(x1[None, :16, :16]), jnp.asarray(x2[None, :16, :16])
    valid = jnp.zeros((1, 16, 16, 1)).at[:, :13, :10].set(1.0)
    _, (m, _) = trainer.loss(params, v1, v2, valid, 0.01, 0.0,
                             jnp.ones((0,)), jax.random.key(1))
    y = trainer.codec.encode(params, v1)
    x_hat = trainer.codec.decode(params, jnp.round(y), v2)
    want = np.mean(np.square(np.asarray(v1 - x_hat)[0, :13, :10]))
    np.testing.assert_allclose(float(m["mse"]), want, rtol=1e-5)
    # bpp: the bits of every latent per valid pixel.
    _, (m_all, _) = trainer.loss(params, v1, v2, jnp.ones((1, 16, 16, 1)),
                                 0.01, 0.0, jnp.ones((0,)), jax.random.key(1))
    np.testing.assert_allclose(float(m["bpp"]) * 130,
                               float(m_all["bpp"]) * 256, rtol=1e-5)
    # Training with the padded crops runs and is finite.
    _, metrics = jax.jit(trainer.train)(jnp.float32(0.01), jnp.float32(0.0),
                                        jax.random.key(2))
    self.assertTrue(np.all(np.isfinite(np.asarray(metrics["loss"]))))


class BadInputTest(parameterized.TestCase):

  def test_pairs_of_different_sizes_or_channels(self):
    x1, x2 = pair()
    with self.assertRaisesRegex(ValueError, r"view 1 is \(20, 44, 3\) and "
                                r"view 2 is \(20, 40, 3\)"):
      data.check_pair(x1, x2[:, :40], "test pair")
    with self.assertRaisesRegex(ValueError, r"view 2 has shape \(20, 44, 1\)"
                                r".*colour images \[H, W, 3\]"):
      data.check_pair(x1, x2[..., :1], "test pair")
    with self.assertRaisesRegex(ValueError, "training pair"):
      train.make_train(tiny_arm(), (x1, x2[:, :40]))

  def test_crop_larger_than_the_image(self):
    cfg = tiny_arm()
    cfg.train.crop = (32, 16)
    with self.assertRaisesRegex(ValueError, r"train.crop=\(32, 16\) does not "
                                r"fit the training images of 20x44 px; "
                                r"allowed: 1..20 x 1..44"):
      train.make_train(cfg, pair())

  @parameterized.parameters("factorized", "hyperprior", "mean_scale")
  def test_crop_sizes_the_transforms_cannot_divide(self, entropy):
    cfg = tiny_arm(entropy)
    cfg.train.crop = (16, 10)  # 2 downsamplings: multiples of 4
    with self.assertRaisesRegex(ValueError, r"train.crop=\(16, 10\): both "
                                r"sides must be multiples of 4"):
      train.make_train(cfg, pair(0, (24, 40, 3)))

  def test_side_information_of_another_size(self):
    coder, params = coder_params()
    x1, x2 = pair()
    file = coder.compress(params, x1, 0.01)
    with self.assertRaisesRegex(ValueError, "holds a 20x44 px view; the side "
                                "information is 20x40"):
      coder.decompress(params, file, x2[:, :40])

  @parameterized.parameters(("model.entropy", "gmm"), ("model.fusion", "add"),
                            ("train.decoder_input", "soft"))
  def test_unknown_names(self, field, value):
    cfg = tiny_arm()
    section, key = field.split(".")
    cfg[section][key] = value
    with self.assertRaisesRegex(ValueError, rf"{field}='{value}' is unknown; "
                                "allowed"):
      train.validate(cfg, (64, 64, 3))

  def test_beta_without_an_estimator(self):
    cfg = tiny_arm()
    cfg.sweep.betas = (0.1,)
    with self.assertRaisesRegex(ValueError, "β_MI ≠ 0 needs"):
      train.validate(cfg, (64, 64, 3))


if __name__ == "__main__":
  absltest.main()
