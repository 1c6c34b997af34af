"""Local stand-ins for the services Sen's messaging talks to, each on its real protocol.

* :mod:`.smtp`: an SMTP relay (STARTTLS or TLS, AUTH) answering like Amazon SES,
  posting SES notifications through :mod:`.sns`, a signing SNS topic;
* :mod:`.push`: a Web Push service (RFC 8030, 8291, 8292);
* :mod:`.webhook`: a system receiving Sen's signed webhooks;
* :mod:`.certs`: a local certificate authority for their TLS; :mod:`.serve`: run
  an ASGI sandbox on 127.0.0.1 in a thread.

Tests use them, and ``sen demo up`` runs them so the demo shop can send for real.
They are written from the protocols' documents, not from Sen's clients, and import
nothing from :mod:`sen.messaging`.
"""
