"""The shipped resources (forms, code tables, styles, sounds, scenarios), installed with MDT as the
package ``mdt_resources`` (see ``pyproject.toml``); read them through
:func:`mdt.paths.resources_dir`, never by a path relative to the code."""
