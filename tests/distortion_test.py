"""Tests of the distortion measures."""

import chex
import jax.numpy as jnp
import numpy as np
from absl.testing import absltest

from ndc_jax.wyner_ziv import distortion


class DistortionTest(chex.TestCase):

  @chex.variants(with_jit=True, without_jit=True)
  def test_values(self):
    x, x_hat = jnp.array([[1.0, 2.0]]), jnp.array([[0.0, 4.0]])
    np.testing.assert_allclose(self.variant(distortion.squared_error)(
        x, x_hat), [2.5])
    np.testing.assert_allclose(self.variant(distortion.absolute_error)(
        x, x_hat), [1.5])

  def test_db_and_lookup(self):
    np.testing.assert_allclose(distortion.to_db(0.01), -20.0, rtol=1e-6)
    self.assertIs(distortion.get("squared_error"), distortion.squared_error)
    with self.assertRaisesRegex(ValueError, "'l7'.*squared_error"):
      distortion.get("l7")


if __name__ == "__main__":
  absltest.main()
