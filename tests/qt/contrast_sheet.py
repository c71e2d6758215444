"""WCAG contrast computed from the style sheet the application really sets and its palettes.

:func:`mdt.ui.theme.style_sheet` is the one sheet ``apply_theme`` puts on the application: the
day rules, the night rules under ``[mdtTheme="night"]``, the high-contrast rules after them.
This module parses it, cascades it for each text the application shows (a declared widget path:
the classes and object names and properties that mdt/ui sets in code) the way Qt does for that
subset (CSS specificity, then order; no inheritance of ``color`` from a parent, a transparent
widget shows its parent's background), takes what the sheet leaves unset from the theme's
palette (:func:`mdt.ui.theme.palette_for`), and gives the WCAG 2 ratio of text to background.

The colour maths is written here by hand: QColor gives the sRGB components, and the WCAG 2.x
relative-luminance formula and ratio follow (https://www.w3.org/TR/WCAG21/#dfn-relative-luminance).

``python tests/qt/contrast_sheet.py`` prints the table (as ``pytest -s tests/qt/test_contrast.py``
does).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

from PySide6 import QtWidgets
from PySide6.QtGui import QColor, QPalette

from mdt.paths import resources_dir
from mdt.ui.theme import BADGES, TEXT_ACCENTS, palette_for, style_sheet

THEMES = {  # name: (theme, high contrast)
    "day": ("day", False), "night": ("night", False),
    "hc-day": ("day", True), "hc-night": ("night", True),
}
AA = 4.5  # WCAG 2 AA, normal text
SAFETY_HC = 7.0  # what is safety-critical, in high contrast (WCAG AAA)
NON_TEXT = 3.0  # WCAG 2.1 1.4.11: a check box's border and check mark


def luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))


def ratio(a: QColor | str, b: QColor | str) -> float:
    high, low = sorted((luminance(QColor(a)), luminance(QColor(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


# -- the sheet --------------------------------------------------------------------------------
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_RULE = re.compile(r"([^{}]+)\{([^}]*)\}")
_SIMPLE = re.compile(r'(::[\w-]+)|(:[\w-]+)|(#[\w-]+)|(\[[\w-]+="[^"]*"\])|(\*|[A-Za-z_][\w]*)')


@dataclass(frozen=True)
class Compound:
    """One compound selector: ``QLabel#Name[prop="v"]:pseudo::sub``."""

    type: str = ""
    name: str = ""
    attrs: tuple[tuple[str, str], ...] = ()
    pseudo: tuple[str, ...] = ()
    sub: str = ""

    @classmethod
    def parse(cls, text: str) -> Compound:
        kind, name, attrs, pseudo, sub = "", "", [], [], ""
        for m in _SIMPLE.finditer(text):
            if m.group(1):
                sub = m.group(1)[2:]
            elif m.group(2):
                pseudo.append(m.group(2)[1:])
            elif m.group(3):
                name = m.group(3)[1:]
            elif m.group(4):
                key, _, value = m.group(4)[1:-1].partition("=")
                attrs.append((key, value.strip('"')))
            else:
                kind = "" if m.group(5) == "*" else m.group(5)
        return cls(kind, name, tuple(attrs), tuple(pseudo), sub)

    def specificity(self) -> tuple[int, int, int]:
        return (1 if self.name else 0, len(self.attrs) + len(self.pseudo),
                (1 if self.type else 0) + (1 if self.sub else 0))


@dataclass(frozen=True)
class Rule:
    chain: tuple[Compound, ...]  # ancestors first
    decls: tuple[tuple[str, str], ...]
    order: int
    text: str  # the selector as written

    def specificity(self) -> tuple[int, int, int]:
        parts = [c.specificity() for c in self.chain]
        return (sum(p[0] for p in parts), sum(p[1] for p in parts), sum(p[2] for p in parts))


def parse_sheet(sheet: str) -> list[Rule]:
    rules: list[Rule] = []
    for selectors, body in _RULE.findall(_COMMENT.sub("", sheet)):
        decls = tuple((k.strip(), v.strip()) for k, _, v in
                      (d.partition(":") for d in body.split(";")) if k.strip())
        for selector in selectors.split(","):
            chain = tuple(Compound.parse(part) for part in selector.split())
            rules.append(Rule(chain, decls, len(rules), selector.strip()))
    return rules


# -- what the application shows ---------------------------------------------------------------
def classes(type_name: str) -> tuple[str, ...]:
    """The Qt class and its bases, from Qt's own meta-object (QLabel → QLabel, QFrame, QWidget)."""
    meta = getattr(QtWidgets, type_name).staticMetaObject
    names = []
    while meta is not None and meta.className() != "QObject":
        names.append(meta.className())
        meta = meta.superClass()
    return tuple(names)


@dataclass(frozen=True)
class Node:
    type: str
    name: str = ""
    props: tuple[tuple[str, str], ...] = ()
    window: bool = False  # a top-level window: follow_theme / apply_theme set its mdtTheme

    @classmethod
    def parse(cls, text: str, window: bool = False) -> Node:
        c = Compound.parse(text)
        return cls(c.type, c.name, c.attrs, window)

    def matches(self, compound: Compound, theme: str) -> bool:
        props = dict(self.props)
        if self.window:
            props["mdtTheme"] = theme
        return ((not compound.type or compound.type in classes(self.type))
                and (not compound.name or compound.name == self.name)
                and all(props.get(k) == v for k, v in compound.attrs))


# The palette role a widget paints behind its text and the role of its text, by class.
_BASE_WIDGETS = ("QLineEdit", "QTextEdit", "QPlainTextEdit", "QAbstractItemView", "QComboBox",
                 "QAbstractSpinBox")


def roles(type_name: str) -> tuple[QPalette.ColorRole, QPalette.ColorRole]:
    kinds = classes(type_name)
    if any(k in kinds for k in _BASE_WIDGETS):
        return QPalette.ColorRole.Text, QPalette.ColorRole.Base
    if "QPushButton" in kinds:
        return QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button
    return QPalette.ColorRole.WindowText, QPalette.ColorRole.Window


def path_nodes(path: str) -> tuple[Node, ...]:
    return tuple(Node.parse(p, i == 0) for i, p in enumerate(path.split(" > ")))


@dataclass(frozen=True)
class Text:
    """A text the application shows: where it sits (top-level window first) and whether it is
    safety-critical (7:1 in high contrast)."""

    what: str
    path: str
    safety: bool = False
    nodes: tuple[Node, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", path_nodes(self.path))


W = "QMainWindow > QWidget#TerminalPage[layoutKind=\"officer\"]"
BAR = "QMainWindow > QFrame#AlertBar[severity=\"{}\"]"
LINE = W + " > QFrame#HitConfirmationPanel > QFrame#HitLine"
TEXTS: tuple[Text, ...] = (
    Text("plain label", W + " > QLabel"),
    Text("input", W + " > QLineEdit"),
    Text("button", W + " > QPushButton"),
    Text("check box text", "QDialog > QCheckBox"),
    Text("table cell", W + " > QTableView#ReturnsTable"),
    Text("record body", W + " > QTextBrowser#ReturnBody"),
    Text("trainer debrief", "QMainWindow > QWidget > QTextBrowser#Debrief"),
    Text("training banner", "QMainWindow > QLabel#TrainingBanner", safety=True),
    Text("HIT banner", W + " > QLabel#HitBanner", safety=True),
    Text("no-hit banner", W + " > QLabel#NoHitBanner"),
    Text("notice banner", W + " > QLabel#NoticeBanner", safety=True),
    Text("record banner", W + " > QLabel#RecordBanner"),
    Text("error banner", W + " > QLabel#ErrorBanner"),
    Text("status banner", W + " > QLabel#StatusBanner"),
    Text("pending banner", W + " > QLabel#PendingBanner"),
    Text("cached line", W + " > QLabel#CachedBanner"),
    Text("command line", W + " > QLineEdit#CommandLine"),
    Text("command error", W + " > QLabel#CommandError"),
    Text("command feedback", W + " > QLabel#CommandFeedback"),
    Text("field error", W + " > QWidget > QLabel#FieldError"),
    Text("field warning", W + " > QWidget > QLabel#FieldWarning"),
    Text("Online", "QMainWindow > QStatusBar > QLabel#ConnOnline", safety=True),
    Text("Offline", "QMainWindow > QStatusBar > QLabel#ConnOffline", safety=True),
    Text("sign in again", "QMainWindow > QStatusBar > QLabel#ConnReauth", safety=True),
    Text("next deadline", "QMainWindow > QStatusBar > QLabel#NextDeadline", safety=True),
    Text("login title", "QMainWindow > QWidget > QLabel#LoginTitle"),
    Text("login error", "QMainWindow > QWidget > QLabel#LoginError"),
    *(Text(f"alert bar {severity}: {label}", BAR.format(severity) + f" > QLabel#{label}",
           safety=True)
      for severity in ("critical", "high", "info")
      for label in ("AlertSeverity", "AlertTitle", "AlertDetail", "AlertCountdown")),
    *(Text(f"alert bar {severity}: overdue countdown",
           BAR.format(severity) + ' > QLabel#AlertCountdown[overdue="true"]', safety=True)
      for severity in ("critical", "high", "info")),
    *(Text(f"alert bar {severity}, 2nd request: countdown",
           BAR.format(severity).replace("]", '][request="2"]', 1) + " > QLabel#AlertCountdown",
           safety=True) for severity in ("critical", "high")),
    Text("alert bar button", BAR.format("critical") + " > QPushButton#AlertAcknowledge",
         safety=True),
    Text("hit line heading", LINE + " > QLabel", safety=True),
    Text("hit line: policy prompt", LINE + " > QLabel#PolicyPrompt", safety=True),
    Text("hit line: not confirmed", LINE + " > QLabel#ConfirmNone", safety=True),
    Text("hit line: YQ countdown", LINE + " > QLabel#ConfirmWaiting", safety=True),
    Text("hit line: overdue", LINE + " > QLabel#ConfirmOverdue", safety=True),
    Text("hit line: confirmed", LINE + " > QLabel#ConfirmYes", safety=True),
    Text("hit line: not confirmed (NO)", LINE + " > QLabel#ConfirmNo", safety=True),
    Text("trainer console state", "QMainWindow > QWidget > QLabel#ConsoleState"),
)


@dataclass(frozen=True)
class Measured:
    theme: str
    what: str
    colour: str
    background: str
    value: float
    minimum: float
    source: str  # the rules that gave the colours

    @property
    def ok(self) -> bool:
        return self.value >= self.minimum


def _colour(value: str) -> str | None:
    m = re.search(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b|\btransparent\b", value)
    return m.group(0) if m else None


def _declared(rules: list[Rule], nodes: tuple[Node, ...], theme: str,
              sub: str = "", pseudo: tuple[str, ...] = ()) -> dict[str, tuple[str, str]]:
    """The cascaded declarations of the last node: property → (value, selector)."""
    *ancestors, node = nodes
    found = []
    for rule in rules:
        *up, last = rule.chain
        if last.sub != sub or not set(last.pseudo) <= set(pseudo) or not node.matches(last,
                                                                                      theme):
            continue
        rest = list(ancestors)
        for compound in reversed(up):  # each ancestor compound matches some node further up
            while rest and not rest[-1].matches(compound, theme):
                rest.pop()
            if not rest:
                break
            rest.pop()
        else:
            found.append(rule)
    found.sort(key=lambda r: (r.specificity(), r.order))
    values: dict[str, tuple[str, str]] = {}
    for rule in found:
        for key, value in rule.decls:
            if key in ("background", "background-color"):
                key = "background"
            if key == "border-color":  # it overrides the colour of an earlier border
                key = "border"
            values[key] = (value, rule.text)
    return values


def text_colours(rules: list[Rule], text: Text, theme: str, palette: QPalette
                 ) -> tuple[str, str, str]:
    """(colour, background, where from) of ``text`` in this theme."""
    text_role, back_role = roles(text.nodes[-1].type)
    own = _declared(rules, text.nodes, theme)
    colour = _colour(own.get("color", ("", ""))[0])
    source = [own["color"][1]] if colour else [f"palette {text_role.name}"]
    colour = colour or palette.color(text_role).name()
    background = None
    for depth in range(len(text.nodes), 0, -1):  # a transparent widget shows its parent
        declared = _declared(rules, text.nodes[:depth], theme)
        value = _colour(declared.get("background", ("", ""))[0])
        if value and value != "transparent":
            background = value
            source.append(declared["background"][1])
            break
        if depth == len(text.nodes) and back_role != QPalette.ColorRole.Window \
                and value != "transparent":
            background = palette.color(back_role).name()  # it paints its own Base / Button
            source.append(f"palette {back_role.name}")
            break
    if background is None:
        background = palette.color(QPalette.ColorRole.Window).name()
        source.append("palette Window")
    return colour, background, " / ".join(source)


_PALETTE_PAIRS = (
    ("palette text on window", QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
    ("palette text on base", QPalette.ColorRole.Text, QPalette.ColorRole.Base),
    ("palette text on alternate rows", QPalette.ColorRole.Text, QPalette.ColorRole.AlternateBase),
    ("palette placeholder on base", QPalette.ColorRole.PlaceholderText, QPalette.ColorRole.Base),
    ("palette button text", QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
    ("palette selected text", QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Highlight),
    ("palette link on base", QPalette.ColorRole.Link, QPalette.ColorRole.Base),
    ("palette visited link on base", QPalette.ColorRole.LinkVisited, QPalette.ColorRole.Base),
    ("palette tooltip", QPalette.ColorRole.ToolTipText, QPalette.ColorRole.ToolTipBase),
)


def measure(theme_name: str) -> list[Measured]:
    """Every text of the table for one theme ("day", "night", "hc-day", "hc-night")."""
    theme, high = THEMES[theme_name]
    rules = parse_sheet(style_sheet(high))
    palette = palette_for(theme, high)
    out = []
    for text in TEXTS:
        colour, background, source = text_colours(rules, text, theme, palette)
        minimum = SAFETY_HC if high and text.safety else AA
        out.append(Measured(theme_name, text.what, colour, background, ratio(colour, background),
                            minimum, source))
    for what, text_role, back_role in _PALETTE_PAIRS:
        colour, background = palette.color(text_role).name(), palette.color(back_role).name()
        out.append(Measured(theme_name, what, colour, background, ratio(colour, background), AA,
                            "palette"))
    accent_key = "high" if high else theme
    for name, colours in TEXT_ACCENTS.items():  # table cells' foreground (code, not the sheet)
        for back_role in (QPalette.ColorRole.Base, QPalette.ColorRole.AlternateBase):
            background = palette.color(back_role).name()
            out.append(Measured(theme_name, f"cell text '{name}' on {back_role.name}",
                                colours[accent_key], background,
                                ratio(colours[accent_key], background),
                                SAFETY_HC if high and name in ("hit", "warning", "ok") else AA,
                                "theme.TEXT_ACCENTS"))
    for name, (colour, background) in BADGES.items():  # text with its own background
        out.append(Measured(theme_name, f"badge '{name}'", colour, background,
                            ratio(colour, background), SAFETY_HC, "theme.BADGES"))
    return out


def uncovered_rules() -> list[str]:
    """Selectors of rules that give a text colour or a background and match none of
    :data:`TEXTS` in any theme (a new object name needs its line there)."""
    missing = []
    for high in (False, True):
        rules = parse_sheet(style_sheet(high))
        for rule in rules:
            last = rule.chain[-1]
            keys = {k for k, _ in rule.decls}
            if last.sub or last.pseudo or not keys & {"color", "background", "background-color"}:
                continue
            used = any(_declared([rule], text.nodes[:depth], theme)
                       for text in TEXTS for depth in range(1, len(text.nodes) + 1)
                       for theme in ("day", "night"))
            if not used:
                missing.append(rule.text)
    return sorted(set(missing))


# -- check boxes ------------------------------------------------------------------------------
def _svg_stroke(url: str) -> str:
    name = re.search(r"url\(mdtstyles:([\w.-]+)\)", url)
    assert name, url
    svg = (resources_dir() / "styles" / name.group(1)).read_text(encoding="utf-8")
    stroke = re.search(r'stroke="(#[0-9a-fA-F]{6})"', svg)
    assert stroke, name.group(1)
    return stroke.group(1)


def indicator_ratios(theme_name: str) -> list[Measured]:
    """A check box's box border against what is around it (the dialog's Window, a list's Base),
    and the check mark against the ticked box (WCAG 1.4.11: 3:1)."""
    theme, high = THEMES[theme_name]
    rules = parse_sheet(style_sheet(high))
    palette = palette_for(theme, high)
    out = []
    for what, path in (("check box", "QDialog > QCheckBox"),
                       ("list row check", "QMainWindow > QListWidget")):
        nodes = path_nodes(path)
        _text, around = text_colours(rules, Text(what, path), theme, palette)[:2] \
            if "QCheckBox" in path else ("", palette.color(QPalette.ColorRole.Base).name())
        plain = _declared(rules, nodes, theme, "indicator")
        ticked = _declared(rules, nodes, theme, "indicator", ("checked",))
        border = _colour(plain.get("border", ("", ""))[0])
        if border is None:  # Fusion draws it from the window colour: not what the sheet says
            out.append(Measured(theme_name, f"{what}: box border (none in the sheet)", around,
                                around, 1.0, NON_TEXT, "no ::indicator rule"))
            continue
        out.append(Measured(theme_name, f"{what}: box border", border, around,
                            ratio(border, around), NON_TEXT, plain["border"][1]))
        box = _colour(ticked.get("background", ("", ""))[0]) or around
        image = ticked.get("image", ("", ""))[0]
        mark = _svg_stroke(image) if image else box
        out.append(Measured(theme_name, f"{what}: check mark", mark, box, ratio(mark, box),
                            NON_TEXT, ticked["image"][1] if image else "no check mark image"))
    return out


def table(rows: list[Measured]) -> str:
    lines = [f"{'theme':9} {'text':44} {'colour':8} {'on':8} {'ratio':>7} {'min':>4}  "]
    for row in rows:
        lines.append(f"{row.theme:9} {row.what[:44]:44} {row.colour:8} {row.background:8} "
                     f"{row.value:6.2f}:1 {row.minimum:4.1f}  {'ok' if row.ok else 'FAIL'}  "
                     f"{row.source}")
    return "\n".join(lines)


def all_rows() -> list[Measured]:
    return [row for name in THEMES for row in measure(name) + indicator_ratios(name)]


if __name__ == "__main__":
    rows = all_rows()
    print(table(rows))
    failed = [r for r in rows if not r.ok]
    print(f"\n{len(rows) - len(failed)} passed, {len(failed)} failed")
    missing = uncovered_rules()
    if missing:
        print("rules with a colour that no text covers:", ", ".join(missing))
    sys.exit(1 if failed or missing else 0)
