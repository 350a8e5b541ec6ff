"""Settings for the whole test session.

The suite checks float32 networks against exact references (float64 tables,
fixed-point priors, gathers against one-hot matmuls) at about 1e-5. On a GPU,
JAX's default float32 matmul is TF32 (a 10-bit mantissa): on an H100 that moved
the decoder's outputs by up to 4e-4 and failed 13 such comparisons. Full
float32 matmuls make the suite check the algorithms on any device; the
environment variable carries the setting into the tests' subprocesses. On a
CPU, float32 matmuls are full precision either way.
"""

import os

import jax

os.environ["JAX_DEFAULT_MATMUL_PRECISION"] = "highest"
jax.config.update("jax_default_matmul_precision", "highest")
