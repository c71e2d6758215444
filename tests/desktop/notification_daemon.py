"""A tiny freedesktop notification service for the tests: owns org.freedesktop.Notifications on
the session bus, answers Notify with a new id and GetServerInformation, and prints each
notification as one JSON line. Run as ``python tests/desktop/notification_daemon.py``."""

from __future__ import annotations

import json
import sys

from jeepney import HeaderFields, MessageType, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection


def main() -> int:
    connection = open_dbus_connection(bus="SESSION")
    reply = connection.send_and_get_reply(message_bus.RequestName(
        "org.freedesktop.Notifications", 4))  # 4: do not queue
    if reply.body[0] != 1:
        print(json.dumps({"error": f"name not owned: {reply.body}"}), flush=True)
        return 1
    print(json.dumps({"ready": True}), flush=True)
    next_id = 0
    while True:
        message = connection.receive()
        if message.header.message_type is not MessageType.method_call:
            continue
        member = message.header.fields.get(HeaderFields.member)
        if member == "Notify":
            next_id += 1
            app, _replaces, icon, summary, body, _actions, hints, timeout = message.body
            print(json.dumps({"id": next_id, "app": app, "icon": icon, "summary": summary,
                              "body": body, "urgency": hints.get("urgency", ("y", None))[1],
                              "timeout": timeout}), flush=True)
            connection.send(new_method_return(message, "u", (next_id,)))
        elif member == "GetServerInformation":
            connection.send(new_method_return(message, "ssss", ("mdt-test", "mdt", "1", "1.2")))
        elif member == "GetCapabilities":
            connection.send(new_method_return(message, "as", (["body"],)))
        else:
            connection.send(new_method_return(message))


if __name__ == "__main__":
    sys.exit(main())
