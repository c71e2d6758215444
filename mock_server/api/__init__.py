"""The gateway's HTTP API (``docs/protocol.md``), one router per area:

- :mod:`~mock_server.api.sessions`: health, sign-in and sign-out;
- :mod:`~mock_server.api.inbox`: the inbox, its live stream and receipts (sync);
- :mod:`~mock_server.api.messages`: messages to the switch, the agency's units, audit records;
- :mod:`~mock_server.api.reference`: the form definitions and code tables a terminal downloads;
- :mod:`~mock_server.api.training` and :mod:`~mock_server.api.scenarios`: the trainer's
  (training gateways only: on a live one these routes do not exist).

Who is asking is a dependency (:mod:`~mock_server.api.deps`), never read by a route itself.
"""
