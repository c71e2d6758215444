"""The desktop's own services, without Qt: speech (:mod:`mdt.desktop.speech`), the freedesktop
notification service (:mod:`mdt.desktop.notify`). Each says when it is absent and why."""
