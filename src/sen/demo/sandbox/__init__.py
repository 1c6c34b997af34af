"""Local stand-ins for the services Sen's messaging talks to, each on its real protocol.

* SMS: :mod:`.esms`, :mod:`.speedsms`, :mod:`.http_sms`; Zalo ZNS and its OAuth:
  :mod:`.zalo` (``GET /_sandbox/messages`` is each one's inbox);
* :mod:`.smtp`: an SMTP relay (STARTTLS or TLS, AUTH) answering like Amazon SES,
  posting SES notifications through :mod:`.sns`, a signing SNS topic;
* :mod:`.push`: a Web Push service (RFC 8030, 8291, 8292);
* :mod:`.webhook`: a system receiving Sen's signed webhooks;
* :mod:`.certs`: a local certificate authority for their TLS.

Tests send through them over real connections, and ``sen demo up`` runs them so a
marketer can watch a campaign arrive. Each is written from the provider's
documentation, not from Sen's clients (they import nothing from
:mod:`sen.messaging`), and says in its docstring where it had to guess.
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
