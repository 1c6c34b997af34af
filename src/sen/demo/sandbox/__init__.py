"""Local stand-ins for the messaging providers, speaking their documented wire formats.

The tests send through them over real HTTP, and ``sen demo up`` runs them so a
marketer can watch a campaign arrive (``GET /_sandbox/messages`` is the inbox).
Each is written from the provider's documentation, not from Sen's clients, and
says in its docstring where it had to guess.

>>> esms = EsmsSandbox()
>>> with serve_in_thread(esms.app()) as url:  # doctest: +SKIP
...     ...
"""

from sen.demo.sandbox.common import Accepted, Fault, Faults, Sandbox
from sen.demo.sandbox.courier import Courier
from sen.demo.sandbox.esms import EsmsSandbox
from sen.demo.sandbox.http_sms import HttpSmsSandbox
from sen.demo.sandbox.server import BackgroundServer, free_port, serve_in_thread
from sen.demo.sandbox.speedsms import SpeedSmsSandbox
from sen.demo.sandbox.zalo import ZaloSandbox

__all__ = ["Accepted", "BackgroundServer", "Courier", "EsmsSandbox", "Fault", "Faults",
           "HttpSmsSandbox", "Sandbox", "SpeedSmsSandbox", "ZaloSandbox", "free_port",
           "serve_in_thread"]
