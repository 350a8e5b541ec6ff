"""Unit conversions: rates are computed in nats and reported in bits."""

import math

LN2 = math.log(2.0)  # nats per bit
