"""Day and night themes for the whole application (Fusion style + a palette + one style sheet).

The theme is applied to the QApplication before the first window is shown, so night mode never
flashes a white window at an officer in a dark car.
"""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

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
        QPalette.ColorRole.ToolTipText: "#c9cdd2", QPalette.ColorRole.PlaceholderText: "#6b7480",
        QPalette.ColorRole.Link: "#8fb8ff", QPalette.ColorRole.LinkVisited: "#b9a4ff",
    },
}


def palette_for(theme: str) -> QPalette:
    palette = QPalette()
    for role, colour in _PALETTES[theme].items():
        palette.setColor(role, QColor(colour))
    return palette


HIGH_CONTRAST: dict[QPalette.ColorRole, str] = {
    QPalette.ColorRole.Window: "#000000", QPalette.ColorRole.WindowText: "#ffffff",
    QPalette.ColorRole.Base: "#000000", QPalette.ColorRole.AlternateBase: "#101010",
    QPalette.ColorRole.Text: "#ffffff", QPalette.ColorRole.Button: "#000000",
    QPalette.ColorRole.ButtonText: "#ffff00", QPalette.ColorRole.Highlight: "#ffff00",
    QPalette.ColorRole.HighlightedText: "#000000", QPalette.ColorRole.Link: "#00ffff",
    QPalette.ColorRole.PlaceholderText: "#c0c0c0",
}
HIGH_CONTRAST_SHEET = """
/* High contrast: white on black, yellow for what can be pressed, thick focus outlines */
QWidget { color: #ffffff; background: #000000; }
QPushButton, QComboBox, QLineEdit, QTableView, QTabBar::tab { border: 2px solid #ffffff; }
QPushButton { color: #ffff00; }
*:focus { border: 3px solid #ffff00; }
"""
_FONT_SIZE = re.compile(r"font-size:\s*(\d+(?:\.\d+)?)pt")


def scaled_sheet(sheet: str, scale: float) -> str:
    """Every ``font-size: Npt`` in a style sheet times ``scale`` (the font scale setting)."""
    if abs(scale - 1.0) < 0.01:
        return sheet
    return _FONT_SIZE.sub(lambda m: f"font-size: {float(m.group(1)) * scale:.1f}pt", sheet)


def apply_theme(app: QApplication, theme: str, *, high_contrast: bool = False,
                font_scale: float = 1.0) -> str:
    """Apply ``theme`` ("day" or "night"; anything else falls back to day), optionally in high
    contrast and with every font scaled. Returns the theme used."""
    theme = theme if theme in THEMES else "day"
    font_scale = min(2.0, max(0.8, font_scale))
    app.setStyle("Fusion")
    palette = palette_for(theme)
    if high_contrast:
        for role, colour in HIGH_CONTRAST.items():
            palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    sheet = (resources_dir() / "styles" / f"{theme}.qss").read_text(encoding="utf-8")
    if high_contrast:
        sheet += HIGH_CONTRAST_SHEET
    app.setStyleSheet(scaled_sheet(sheet, font_scale))
    app.setProperty("mdtTheme", theme)
    app.setProperty("mdtHighContrast", high_contrast)
    app.setProperty("mdtFontScale", font_scale)
    return theme
