"""The marketer UI's page handlers, one module per domain (server-rendered Jinja2)."""
