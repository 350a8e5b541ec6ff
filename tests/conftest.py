"""Settings for the whole test session.

The suite checks float32 networks against exact references (float64 tables,
fixed-point priors, gathers against one-hot matmuls) at about 1e-5. On a GPU,
JAX's default float32 matmul is TF32 (a 10-bit mantissa): on an H100 that moved
the decoder's outputs by up to 4e-4 and failed 13 such comparisons. Full
float32 matmuls make the suite check the algorithms on any device; the
environment variable carries the setting into the tests' subprocesses. On a
CPU, float32 matmuls are full precision either way.

Compiled programs are kept in JAX's persistent compilation cache (in
$JAX_COMPILATION_CACHE_DIR, by default a folder under the system's temporary
directory), shared by the xdist workers and the tests' subprocesses: many
tests train the same small configs, and on a 2-core CPU compiling them is
most of the suite's time. The cache only skips recompiling the same program.
"""

import os
import tempfile

import jax

os.environ["JAX_DEFAULT_MATMUL_PRECISION"] = "highest"
jax.config.update("jax_default_matmul_precision", "highest")

os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(
    tempfile.gettempdir(), "ndc_jax_test_compilation_cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.5")
jax.config.update("jax_compilation_cache_dir",
                  os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs",
                  float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))
