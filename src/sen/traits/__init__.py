"""sen.traits: what a customer is and does.

* :mod:`sen.traits.runner`: computes every profile's built-in and user-defined
  traits into ``profile_traits`` (``refresh``, ``update``, ``compute_profiles``);
* :mod:`sen.traits.clv`: BG/NBD and Gamma-Gamma fitted by maximum likelihood;
  :mod:`sen.traits.calibration` checks them on a time split;
* :mod:`sen.traits.rfm`, :mod:`sen.traits.lifecycle`: scores, groups, stages;
* :mod:`sen.traits.custom`: user-defined traits; :mod:`sen.traits.fields`:
  the catalogue the segment builder and exports read.
"""

from sen.traits.clv import BgNbd, GammaGamma, fit_bgnbd, fit_gamma_gamma
from sen.traits.config import TraitsConfig
from sen.traits.runner import TraitRun, compute_profiles, refresh, update

__all__ = ["BgNbd", "GammaGamma", "TraitRun", "TraitsConfig", "compute_profiles", "fit_bgnbd",
           "fit_gamma_gamma", "refresh", "update"]
