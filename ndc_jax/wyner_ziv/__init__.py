"""The one-shot Wyner-Ziv compressor (Ozyilkan, Ballé, Erkip 2023).

sources (X, Y pairs with bounds), models and compressor (encoder, decoder,
entropy model), relaxation (Concrete samples), rate and distortion (the
Lagrangian's terms), train (make_train), evaluate (hard-index R-D and
binning counts), plots, job (train_and_evaluate, load_arm).
"""
