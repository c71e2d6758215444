"""MDT: a mobile data terminal for law enforcement."""

# The one place the version is written; pyproject.toml reads it from here (setuptools' ``attr``),
# so the installed metadata says the same. Not read back through importlib.metadata: that import
# and its scan of the installed distributions cost the GUI's first window some 30 ms.
__version__ = "0.1.0"
