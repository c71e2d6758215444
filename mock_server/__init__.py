"""mdt-gateway: MDT's bundled training gateway, imitating a message switch with synthetic data.

It shares no private code with the client (``mdt/``); the contract between them is
``docs/protocol.md``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mdt")
except PackageNotFoundError:
    __version__ = "0.0.0+source"
