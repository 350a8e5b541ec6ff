"""The multi-source job on real correlated sources (stereo images, EEG, ECG).

protocol (the loaders of `ndc_jax.data`, folds, normalization), tiling,
classical, evaluate, plots, job (train_and_evaluate).
"""
