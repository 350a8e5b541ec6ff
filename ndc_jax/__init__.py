"""ndc_jax: neural distributed source coding in JAX/Flax."""
