"""The static site's fixed words: one message catalogue (messages/en.toml), and a translation laid over it.

A catalogue is TOML: `lang` (the pages' `<html lang>`), `site_name`, and a `[messages]` table of key → text with
`{placeholders}`. A translation (`--messages FILE`) may give any of the keys, each with exactly the placeholders
English has; a key English does not have, a placeholder English does not have (or one left out), a value that is
not text, or TOML that does not parse is refused with the file and the line, before anything is built.
The sentences the Streamlit parents' page also says are not here: they come from metrics.parents_words.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from data.db.errors import StoreError

ENGLISH = Path(__file__).resolve().parent / "messages" / "en.toml"
TOP_KEYS = ("lang", "site_name", "messages")
# a language tag as <html lang> takes it: 'en', 'cy', 'en-GB', 'zh-Hant-HK' (BCP 47's common shapes)
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class SiteError(StoreError):
    """The site could not be built as asked (a bad messages file, an output folder that is not ours): a sentence
    that names the file, for exit code 2."""


@dataclass(frozen=True)
class Catalogue:
    lang: str
    site_name: str
    messages: Mapping[str, str]

    def __call__(self, key: str, **values: object) -> str:
        """The message `key` with its placeholders filled (plain text: the templates escape it)."""
        return self.messages[key].format_map({k: "" if v is None else v for k, v in values.items()})

    def raw(self, key: str) -> str:
        """The message with its {placeholders} left in, for the search script to fill."""
        return self.messages[key]


def placeholders(text: str) -> set[str]:
    """The {names} a message uses ('{{' and '}}' are literal braces)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def _line_of(source: str, key: str) -> str:
    """', line N' where `key = ` is first written in the file ('' when it cannot be found)."""
    match = re.search(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*=", source, re.MULTILINE)
    return f", line {source.count(chr(10), 0, match.start()) + 1}" if match else ""


def _read(path: Path) -> tuple[dict, str]:
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SiteError(f"{path}: there is no such messages file; nothing was built") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteError(f"{path}: the messages file could not be read as UTF-8 text ({exc}); nothing was built") \
            from exc
    try:
        return tomllib.loads(source), source
    except tomllib.TOMLDecodeError as exc:  # its message says where: "... (at line 3, column 7)"
        raise SiteError(f"{path}: not a valid TOML file: {exc}; nothing was built") from exc


def _checked(path: Path, data: dict, source: str, english: Catalogue | None) -> Catalogue:
    """The catalogue in `data`, every problem refused with where it is (the first one found)."""
    for key in data:
        if key not in TOP_KEYS:
            raise SiteError(f"{path}{_line_of(source, key)}: unknown setting {key!r} (a messages file has lang, "
                            "site_name and a [messages] table); nothing was built")
    messages = data.get("messages", {})
    if not isinstance(messages, dict):
        raise SiteError(f"{path}{_line_of(source, 'messages')}: 'messages' must be a table ([messages]); nothing "
                        "was built")
    for key in ("lang", "site_name"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            raise SiteError(f"{path}{_line_of(source, key)}: {key} must be text; nothing was built")
    lang = data.get("lang", english.lang if english else None)
    if not isinstance(lang, str) or not _LANG.fullmatch(lang.strip()):
        raise SiteError(f"{path}{_line_of(source, 'lang')}: lang must be a language tag such as \"en\" or \"cy\", "
                        f"not {lang!r}; nothing was built")
    site_name = data.get("site_name", english.site_name if english else None)
    if not isinstance(site_name, str):
        raise SiteError(f"{path}: site_name is missing; nothing was built")
    for key, text in messages.items():
        where = f"{path}{_line_of(source, key)}"
        if english is not None and key not in english.messages:
            raise SiteError(f"{where}: unknown message key {key!r} (the keys are those of {ENGLISH.name}); "
                            "nothing was built")
        if not isinstance(text, str):
            raise SiteError(f"{where}: the message {key!r} must be text; nothing was built")
        try:
            used = placeholders(text)
        except ValueError as exc:  # a lone '{' or '}'
            raise SiteError(f"{where}: the message {key!r} has a stray brace ({exc}; write {{{{ or }}}} for a "
                            "brace); nothing was built") from exc
        if english is not None and used != (wanted := placeholders(english.messages[key])):
            names = ", ".join(f"{{{n}}}" for n in sorted(wanted)) or "no placeholders"
            raise SiteError(f"{where}: the message {key!r} must use {names}, as {ENGLISH.name} does, not "
                            f"{', '.join(f'{{{n}}}' for n in sorted(used)) or 'none'}; nothing was built")
    base = dict(english.messages) if english else {}
    return Catalogue(lang=lang.strip(), site_name=site_name.strip(), messages={**base, **messages})


def load_catalogue(overlay: str | Path | None = None) -> Catalogue:
    """English, with the translation at `overlay` laid over it (its keys replace English's; the rest stay)."""
    english = _checked(ENGLISH, *_read(ENGLISH), None)
    if overlay is None:
        return english
    path = Path(overlay)
    return _checked(path, *_read(path), english)
