"""The management API's routers, one module per domain (``/api/...``).

Routers only validate input with pydantic models, call the domain package's
public functions and shape the answer; errors are Sen's and are translated once
by :mod:`sen.web.error_handlers`.
"""
