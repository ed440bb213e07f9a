"""HyPyP 0.6.2's own test suite, vendored (see conftest.py); a package like every test folder."""
