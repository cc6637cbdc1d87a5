"""A device kind that exists only in the tests ("bell": a shop-door bell the POS can ring), to
prove that a kind is its package plus one line in the registry (``tests/test_kind_registry.py``).

Its files are the ones docs/architecture.md lists: ``kind.py`` (configuration, factory, claimed
ports), ``service.py``, ``hw_proxy.py`` (web part) and ``checks.py`` (ops part)."""
