"""The headless services of a signed-in terminal (no Qt): the CLI and the GUI call the same ones.

- :mod:`.session`: who is signed in and the cache's writer and reader threads (the store port);
- :mod:`.network`: the network thread and the gateway client (the gateway port);
- :mod:`.gateway_time`: the gateway's clock, measured and kept (the clock);
- :mod:`.audit`, :mod:`.reference` (forms and code tables), :mod:`.queries`, :mod:`.syncing`,
  :mod:`.tokens`, :mod:`.retention`, :mod:`.alerts` (alerts and hit confirmations),
  :mod:`.training` (the trainer's class), :mod:`.signin` (sign-in, profiles, wipe);
- :mod:`.terminal`: :class:`~.terminal.Terminal`, which builds them, each given only what it needs.

Every call blocks: never call one on the GUI thread (:mod:`mdt.app` runs them on workers).
"""
