"""mdt-gateway: MDT's bundled training gateway, imitating a message switch with synthetic data.

It shares no private code with the client (``mdt/``); the contract between them is
``docs/protocol.md``.

Where things are:

- ``app`` wires it together (:func:`~mock_server.app.create_app`); ``config`` its settings;
- ``api/`` the HTTP routes, one router per area, and ``api/deps`` who is asking (auth);
  ``models`` the request bodies; ``errors`` the error shape of every refusal;
- ``gateway`` the gateway itself: sign-in, accepting messages, the delivery scheduler;
- ``switch`` what each message key does (its handler table), ``rules`` what each key requires
  (from the client's form definitions), ``returns`` what the switch prints;
- ``world`` the synthetic world, made of the records in ``synthetic``;
- ``exercise`` what a trainer makes happen (scenarios, injected events, entries, reset,
  activity), ``scenarios`` the scenario model, ``debrief`` the verdicts of a run;
- ``state`` the SQLite state, ``accounts`` its accounts and sessions; ``faults`` the trainer's
  faults; ``otp`` one-time codes; ``tls`` a classroom's certificates.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mdt")
except PackageNotFoundError:
    __version__ = "0.0.0+source"
