"""Day and night themes for the whole application (Fusion style + a palette + one style sheet).

The theme is applied to the QApplication before the first window is shown, so night mode never
flashes a white window at an officer in a dark car.
"""

from __future__ import annotations

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


def apply_theme(app: QApplication, theme: str) -> str:
    """Apply ``theme`` ("day" or "night"; anything else falls back to day). Returns the one used."""
    theme = theme if theme in THEMES else "day"
    app.setStyle("Fusion")
    app.setPalette(palette_for(theme))
    sheet = (resources_dir() / "styles" / f"{theme}.qss").read_text(encoding="utf-8")
    app.setStyleSheet(sheet)
    app.setProperty("mdtTheme", theme)
    return theme
