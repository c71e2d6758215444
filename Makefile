# The two commands: `make run` and `make test`. Both set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench package clean desktop-libs desktop-test-services deb

# What Qt's xcb platform plugin needs on Debian to open a real window (make run only; the tests
# run offscreen without them).
DESKTOP_LIBS := libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
	libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 \
	libgl1 libfontconfig1 libdbus-1-3

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

desktop-libs:
	@if command -v dpkg >/dev/null && ! dpkg -s $(DESKTOP_LIBS) >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $(DESKTOP_LIBS); \
	  else echo "Qt needs: sudo apt-get install $(DESKTOP_LIBS)"; exit 1; fi; fi

# The real desktop services that tests/desktop runs against (a private D-Bus session bus, the
# Secret Service of gnome-keyring, a PulseAudio server with a null sink recorded with sox,
# espeak-ng), installed once on a clean Debian; quiet when they are already there.
DESKTOP_TEST_PKGS := dbus dbus-bin gnome-keyring pulseaudio pulseaudio-utils sox espeak-ng \
	libnotify-bin

desktop-test-services:
	@if command -v dpkg-query >/dev/null && dpkg-query -W -f='$${Status}\n' $(DESKTOP_TEST_PKGS) \
	    2>/dev/null | grep -qv 'install ok installed' || ! dpkg-query -W $(DESKTOP_TEST_PKGS) \
	    >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then echo "Installing the desktop test services: $(DESKTOP_TEST_PKGS)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $(DESKTOP_TEST_PKGS) >/dev/null; \
	  else echo "The desktop tests need: sudo apt-get install $(DESKTOP_TEST_PKGS)"; exit 1; fi; fi

# Starts the bundled training gateway on 127.0.0.1 and opens the client against it.
run: $(STAMP) desktop-libs
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "No display: on a headless machine run 'xvfb-run make run'."; exit 1; fi
	$(PY) -m mdt.devrun

# The whole suite, headless: the one-folder build and its self-test first (the .deb test installs
# that build rather than making its own), a test process per core (pytest-xdist), then, alone,
# the tests that measure time on the machine (marked serial: a GUI stall budget, sound heard for
# its length).
TEST_JOBS ?= auto
test: $(STAMP) desktop-test-services
	$(PY) packaging/build.py
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not serial" -n $(TEST_JOBS) --dist loadscope --durations=25
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m serial
	$(PY) -m ruff check mdt mock_server tests benchmarks
	$(PY) -m mypy

lint: $(STAMP)
	$(PY) -m ruff check mdt mock_server tests benchmarks
	$(PY) -m mypy

bench: $(STAMP) desktop-test-services
	for b in benchmarks/*.py; do QT_QPA_PLATFORM=offscreen $(PY) $$b | tail -n 1; done

# The one-folder desktop build for this OS (packaging/dist/mdt-<version>/), then its self-test.
package: $(STAMP)
	$(PY) packaging/build.py

# A .deb of the one-folder app (make package first): packaging/dist/mdt_<version>_<arch>.deb.
deb: package
	$(PY) packaging/deb.py

clean:
	rm -rf $(VENV) build dist packaging/build packaging/dist *.egg-info
