"""The synthetic retailer: a deterministic, realistically dirty Vietnamese
footwear and leather-goods chain with ground truth, for demos, tests and
benchmarks.

>>> from sen.demo import generate
>>> manifest = generate(Path("demo-data"), customers=10_000, seed=7)  # doctest: +SKIP
"""

from sen.demo.generate import FileEntry, Manifest, generate

__all__ = ["FileEntry", "Manifest", "generate"]
