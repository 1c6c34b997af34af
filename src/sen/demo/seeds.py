"""Independent random streams per generation step.

Each step draws from its own generator derived from ``(seed, step name)``, so
turning one step off (``with_events=False``) or changing how much one step
draws never shifts the numbers another step sees: the POS files stay
byte-identical whether or not events are generated.
"""

from __future__ import annotations

import zlib

import numpy as np


def rng_for(seed: int, step: str) -> np.random.Generator:
    """A PCG64 generator for one named step of one seed."""
    key = zlib.crc32(step.encode())
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, key])))
