"""sen.privacy: a customer's data on request (decree 13/2023/ND-CP).

:func:`export` gathers everything Sen holds about one customer, in both stores,
as one JSON document or a zip of CSV files; :func:`erase` removes her personal
data so she can be neither found nor re-identified, while her orders stay in
the sales figures as anonymous orders. Both record the request in
``privacy_requests`` without any of her data (:func:`requests` lists them).

Only ``sen.web`` and ``sen.cli`` import this package. See docs/privacy.md.
"""

from sen.privacy.erase import Erasure, erase
from sen.privacy.export import Export, export
from sen.privacy.ledger import requests

__all__ = ["Erasure", "Export", "erase", "export", "requests"]
