"""Real bitstreams from trained Wyner-Ziv models.

api (load, compress, decompress in three modes), container (the file
format), integer_prior (exact fixed-point priors for ANS), slepian_wolf (LDPC
syndromes), tables (the encoder's thresholds, the conditional prior's and
the decoder's tables).
"""
