"""Day and night themes for the whole application (Fusion style + a palette + one style sheet).

The theme is applied to the QApplication before the first window is shown, so night mode never
flashes a white window at an officer in a dark car.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterable
from typing import NamedTuple

import shiboken6
from PySide6.QtCore import QDir, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from mdt.paths import resources_dir

THEMES = ("day", "night")

_PALETTES: dict[str, dict[QPalette.ColorRole, str]] = {
    "day": {
        QPalette.ColorRole.Window: "#eef1f4", QPalette.ColorRole.WindowText: "#111418",
        QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f3f5f8",
        QPalette.ColorRole.Text: "#111418", QPalette.ColorRole.Button: "#e2e6eb",
        QPalette.ColorRole.ButtonText: "#111418", QPalette.ColorRole.Highlight: "#1f5fbf",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffe0",
        QPalette.ColorRole.ToolTipText: "#111418", QPalette.ColorRole.PlaceholderText: "#6b7480",
        QPalette.ColorRole.Link: "#0b4fb3", QPalette.ColorRole.LinkVisited: "#5b3fa8",
    },
    "night": {
        QPalette.ColorRole.Window: "#0b0d10", QPalette.ColorRole.WindowText: "#c9cdd2",
        QPalette.ColorRole.Base: "#12151a", QPalette.ColorRole.AlternateBase: "#171b21",
        QPalette.ColorRole.Text: "#c9cdd2", QPalette.ColorRole.Button: "#1b2027",
        QPalette.ColorRole.ButtonText: "#c9cdd2", QPalette.ColorRole.Highlight: "#3a5f8f",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#1b2027",
        QPalette.ColorRole.ToolTipText: "#c9cdd2", QPalette.ColorRole.PlaceholderText: "#8d96a2",
        QPalette.ColorRole.Link: "#8fb8ff", QPalette.ColorRole.LinkVisited: "#b9a4ff",
    },
}


_PALETTE_CACHE: dict[tuple[str, bool], QPalette] = {}


def palette_for(theme: str, high_contrast: bool = False) -> QPalette:
    """The theme's palette, built once per (theme, high contrast) and kept."""
    key = (theme, high_contrast)
    cached = _PALETTE_CACHE.get(key)
    if cached is None:
        cached = QPalette()
        for role, colour in _PALETTES[theme].items():
            cached.setColor(role, QColor(colour))
        if high_contrast:
            for role, colour in HIGH_CONTRAST.items():
                cached.setColor(role, QColor(colour))
        _PALETTE_CACHE[key] = cached
    # A copy made by copy.copy, not QPalette(cached): choosing among QPalette's constructors
    # makes Qt's whole namespace of enums (some 30 ms, before the first window).
    return copy.copy(cached)


HIGH_CONTRAST: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: "#000000", QPalette.ColorRole.WindowText: "#ffffff",
    QPalette.ColorRole.Base: "#000000", QPalette.ColorRole.AlternateBase: "#101010",
    QPalette.ColorRole.Text: "#ffffff", QPalette.ColorRole.Button: "#000000",
    QPalette.ColorRole.ButtonText: "#ffff00", QPalette.ColorRole.Highlight: "#ffff00",
    QPalette.ColorRole.HighlightedText: "#000000", QPalette.ColorRole.Link: "#00ffff",
    QPalette.ColorRole.LinkVisited: "#ff80ff", QPalette.ColorRole.PlaceholderText: "#c0c0c0",
    QPalette.ColorRole.ToolTipBase: "#000000", QPalette.ColorRole.ToolTipText: "#ffffff",
}
# High contrast is the same in day and night: every rule of day.qss / night.qss that gives a
# colour has its high-contrast rule here, so nothing of either theme shows through; what is
# safety-critical (hits, cautions, deadlines, the connection, the training banner) is at least
# 7:1 (tests/qt/test_contrast.py computes every ratio from this sheet and the palettes).
HIGH_CONTRAST_SHEET = """
/* High contrast: white on black, yellow for what can be pressed, thick focus outlines */
QWidget { color: #ffffff; background: #000000; }
QPushButton, QComboBox, QLineEdit, QTableView, QTabBar::tab { border: 2px solid #ffffff; }
QPushButton { color: #ffff00; }
*:focus { border: 3px solid #ffff00; }
QCheckBox::indicator, QAbstractItemView::indicator { border-color: #ffffff; background: #000000; }
QCheckBox::indicator:checked, QAbstractItemView::indicator:checked {
    border-color: #ffff00; background: #ffff00; image: url(mdtstyles:check-black.svg); }
#TrainingBanner { background: #ffd000; color: #000000; }
#HitBanner { background: #a00000; color: #ffffff; }
#NoHitBanner { background: #004d00; color: #ffffff; }
#NoticeBanner { background: #ffd000; color: #000000; }
#RecordBanner { background: #003a75; color: #ffffff; }
#ErrorBanner { background: #5a0070; color: #ffffff; }
#StatusBanner, #PendingBanner, #CachedBanner {
    background: #000000; color: #ffffff; border: 2px solid #ffffff; }
#CommandError, #FieldError, #LoginError, #ConnOffline, #ConfirmNone { color: #ff8080; }
#FieldWarning, #ConnReauth, #ConfirmWaiting { color: #ffd000; }
#ConnOnline { color: #66ff66; }
#AlertBar { border-bottom: 3px solid #ffffff; }
#AlertBar[severity="critical"] { background: #a00000; }
#AlertBar[severity="high"] { background: #6b3d00; }
#AlertBar[severity="info"] { background: #00386b; }
#AlertBar[request="2"], #AlertBar[request="3"] { border: 4px solid #ffff00; }
#AlertBar QLabel { color: #ffffff; background: transparent; }
#AlertCountdown[overdue="true"] { color: #ffff00; }
#HitLine { border: 2px solid #ff8080; background: #000000; }
#PolicyPrompt { background: #000000; color: #ffd000; }
#ConfirmOverdue { background: #a00000; color: #ffffff; }
#ConfirmYes { background: #004d00; color: #ffffff; }
#ConfirmNo { background: #a00000; color: #ffffff; }
"""

# Colours that code gives text where no style sheet reaches (a table cell's foreground), per
# theme ("high" for high contrast, day or night): each is at least 4.5:1 on its theme's Base and
# AlternateBase, 7:1 in high contrast. :func:`text_accent` reads the theme when the cell is
# painted, so a day/night switch (a re-polish, which repaints) shows the new colour.
TEXT_ACCENTS: dict[str, dict[str, str]] = {
    "hit": {"day": "#b00020", "night": "#ff8a96", "high": "#ff8080"},
    "warning": {"day": "#8a5a00", "night": "#e0b050", "high": "#ffd000"},
    "ok": {"day": "#1b5e20", "night": "#7bd389", "high": "#66ff66"},
    "muted": {"day": "#5f6670", "night": "#9aa1a9", "high": "#c0c0c0"},
}

# Text that brings its own background (a word in rich text, a table cell): the same pair in
# every theme and on paper, each at least 7:1.
BADGES: dict[str, tuple[str, str]] = {
    "hit": ("#ffffff", "#8e0b20"),
    "late": ("#ffffff", "#7a4200"),
    "ok": ("#ffffff", "#1b5e20"),
    "info": ("#ffffff", "#1f4e79"),
    "neutral": ("#ffffff", "#444444"),
}


def text_accent(name: str) -> QColor:
    """The colour ``name`` of :data:`TEXT_ACCENTS` in the application's theme now."""
    app = QApplication.instance()
    theme = app.property("mdtTheme") if app is not None else None
    if app is not None and app.property("mdtHighContrast"):
        theme = "high"
    return QColor(TEXT_ACCENTS[name].get(str(theme), TEXT_ACCENTS[name]["day"]))


def badge_style(name: str) -> str:
    """The CSS of badge ``name`` (:data:`BADGES`) for rich text: its colour and background."""
    colour, background = BADGES[name]
    return f"color:{colour}; background-color:{background}"


def badge_colours(name: str) -> tuple[QColor, QColor]:
    """Badge ``name`` (:data:`BADGES`) as (text, background) colours, for a table cell."""
    colour, background = BADGES[name]
    return QColor(colour), QColor(background)


_FONT_SIZE = re.compile(r"font-size:\s*(\d+(?:\.\d+)?)pt")


def scaled_sheet(sheet: str, scale: float) -> str:
    """Every ``font-size: Npt`` in a style sheet times ``scale`` (the font scale setting)."""
    if abs(scale - 1.0) < 0.01:
        return sheet
    return _FONT_SIZE.sub(lambda m: f"font-size: {float(m.group(1)) * scale:.1f}pt", sheet)


_RULE = re.compile(r"([^{}]+)\{([^}]*)\}")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def _rules(sheet: str) -> list[tuple[str, str]]:
    return [(sel.strip(), body.strip()) for sel, body in _RULE.findall(_COMMENT.sub("", sheet))]


class ThemeSheet(NamedTuple):
    """One style sheet for both themes: the rules the two themes share as they are, the day
    colours as the default and the night colours under ``[mdtTheme="night"]`` on the window.
    Switching day and night then changes a property on the windows and re-polishes the widgets
    (the shown ones at once, the rest a batch per turn of the event loop) instead of setting a
    new style sheet on the application."""

    text: str


@functools.cache
def _theme_sheet(high_contrast: bool, font_scale: float) -> ThemeSheet:
    styles = resources_dir() / "styles"
    day = _rules((styles / "day.qss").read_text(encoding="utf-8"))
    night = dict(_rules((styles / "night.qss").read_text(encoding="utf-8")))
    shared: list[str] = []
    themed: list[str] = []
    for selector, body in day:
        night_body = night.pop(selector, None)
        shared.append(f"{selector} {{ {body} }}")
        if night_body is None or night_body == body:
            continue
        parts = [part.strip() for part in selector.split(",")]
        themed.append(", ".join(f'[mdtTheme="night"] {part}' for part in parts) +
                      f" {{ {night_body} }}")
    for selector, body in night.items():  # a rule only the night theme has
        themed.append(_at_night(selector) + f" {{ {body} }}")
    if high_contrast:
        # After both themes, and once more under the night selector: a high-contrast rule
        # outweighs the night rule of the same selector as it does the day one.
        for selector, body in _rules(HIGH_CONTRAST_SHEET):
            themed.append(f"{selector} {{ {body} }}")
            themed.append(_at_night(selector) + f" {{ {body} }}")
    text = "\n".join(shared + themed) + "\n"
    return ThemeSheet(scaled_sheet(text, font_scale))


def _at_night(selector: str) -> str:
    return ", ".join(f'[mdtTheme="night"] {part.strip()}' for part in selector.split(","))


def style_sheet(high_contrast: bool = False, font_scale: float = 1.0) -> str:
    """The one style sheet :func:`apply_theme` sets on the application (both themes' rules)."""
    return _theme_sheet(high_contrast, round(min(2.0, max(0.8, font_scale)), 2)).text


def follow_theme(window: QWidget) -> None:
    """A top-level window made after the theme was applied takes it (its themed rules match
    through the window's ``mdtTheme`` property)."""
    app = QApplication.instance()
    theme = app.property("mdtTheme") if app is not None else None
    window.setProperty("mdtTheme", theme if theme in THEMES else "day")


def _repolish(widgets: Iterable[QWidget]) -> None:
    for widget in widgets:
        style = widget.style()
        style.unpolish(widget)
        style.polish(widget)


def fusion_application(argv: list[str]) -> QApplication:
    """The QApplication, in the Fusion style from its start (Qt's ``-style`` option), which
    :func:`apply_theme` then keeps: ``setStyle("Fusion")`` hands Python the style it makes, and
    making Python's side of QStyle (its some 600 enum members, ~25 ms) has no place before the
    first window."""
    app = QApplication([*argv, "-style", "Fusion"])
    app.setProperty("mdtFusion", True)
    return app


def apply_theme(app: QApplication, theme: str, *, high_contrast: bool = False,
                font_scale: float = 1.0) -> str:
    """Apply ``theme`` ("day" or "night"; anything else falls back to day), optionally in high
    contrast and with every font scaled. Returns the theme used.

    The style sheet is set only when it changes (a type size or high contrast change: one
    application); a day/night switch keeps it and changes the palette and the windows'
    ``mdtTheme`` property, then re-polishes only the widgets whose rules differ by theme."""
    theme = theme if theme in THEMES else "day"
    font_scale = round(min(2.0, max(0.8, font_scale)), 2)
    if not app.property("mdtFusion"):  # a new style re-polishes every widget: once is enough
        app.setStyle("Fusion")
        app.setProperty("mdtFusion", True)
    if not app.property("mdtStylesPath"):
        # The sheet's images (the check boxes' check marks) as url(mdtstyles:NAME)
        QDir.addSearchPath("mdtstyles", str(resources_dir() / "styles"))
        app.setProperty("mdtStylesPath", True)
    sheet = _theme_sheet(high_contrast, font_scale)
    previous = app.property("mdtTheme")
    app.setProperty("mdtTheme", theme)
    app.setProperty("mdtHighContrast", high_contrast)
    app.setProperty("mdtFontScale", font_scale)
    windows = app.topLevelWidgets()
    for window in windows:
        window.setProperty("mdtTheme", theme)
    app.setPalette(palette_for(theme, high_contrast))
    if app.styleSheet() != sheet.text:
        app.setStyleSheet(sheet.text)  # re-styles every widget, the new theme's included
    elif previous != theme:
        # Every widget the style sheet styles (all of them: the sheet sets the font size of
        # every widget) took its palette when it was polished, so each must be polished again
        # for the new one. What is on screen goes now; the hidden rest a batch per turn of the
        # event loop: all of them within a few frames, before anyone can open one.
        shown = [w for w in app.allWidgets() if w.isVisible()]
        _repolish(shown)
        _repolish_later(app, theme, {id(w) for w in shown})
    return theme


_BATCH = 60  # hidden widgets re-polished per turn of the event loop after a day/night switch


def _repolish_later(app: QApplication, theme: str, done: set[int]) -> None:
    pending = [w for w in app.allWidgets() if id(w) not in done]

    def step() -> None:
        if app.property("mdtTheme") != theme:  # switched again: that switch does the rest
            return
        batch, rest = pending[:_BATCH], pending[_BATCH:]
        pending[:] = rest
        alive = [w for w in batch if shiboken6.isValid(w)]
        _repolish(alive)
        if pending:
            QTimer.singleShot(0, step)

    if pending:
        QTimer.singleShot(0, step)
