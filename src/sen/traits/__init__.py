"""sen.traits: what a customer is and does.

So far the purchase-cycle and value models (:mod:`sen.traits.clv`): BG/NBD and
Gamma-Gamma fitted by maximum likelihood on vectorised, log-space likelihoods.
"""

from sen.traits.clv import BgNbd, GammaGamma, fit_bgnbd, fit_gamma_gamma

__all__ = ["BgNbd", "GammaGamma", "fit_bgnbd", "fit_gamma_gamma"]
