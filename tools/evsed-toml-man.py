#!/usr/bin/python3
"""Writes evsed.toml(5) from docs/configuration.md: the man page and the docs are one text.

Usage: evsed-toml-man.py CONFIGURATION_MD VERSION OUTPUT
"""

import re
import sys


def roff(text):
    """Markdown inline text to roff: code spans bold, links as their text, escapes."""
    text = text.replace("\\", "\\e")
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"\1", text)
    text = re.sub(r"`([^`]+)`", lambda m: "\\fB" + m.group(1) + "\\fR", text)
    text = text.replace("-", "\\-")
    text = text.replace("\\\\-", "\\-")
    return text


def line_start(text):
    # A roff line may not start with a dot or an apostrophe.
    return "\\&" + text if text[:1] in (".", "'") else text


def main():
    source, version, output = sys.argv[1:4]
    with open(source, encoding="utf-8") as f:
        lines = f.read().splitlines()
    out = [
        f'.TH EVSED.TOML 5 "" "evsed {version}" "File Formats"',
        ".SH NAME",
        "evsed.toml \\- configuration of the evsed EV charge point daemon",
        ".SH SYNOPSIS",
        "/etc/evsed/evsed.toml, /etc/evsed/evsed.toml.d/*.toml",
        ".SH DESCRIPTION",
    ]
    header = None
    in_code = False
    for raw in lines[1:]:
        if raw.startswith("```"):
            in_code = not in_code
            out.append(".nf" if in_code else ".fi")
            continue
        if in_code:
            out.append(line_start(raw.replace("\\", "\\e")))
            continue
        if raw.startswith("## "):
            out.append(".SH " + roff(raw[3:]).upper())
            header = None
            continue
        if raw.startswith("### "):
            out.append(".SS " + roff(raw[4:]))
            header = None
            continue
        if raw.startswith("|"):
            cells = [c.strip() for c in raw.strip().strip("|").split("|")]
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                continue
            if header is None:
                header = cells
                continue
            # One entry per row: the first cell, then "column: value" for the rest.
            out.append(".TP")
            out.append(line_start(roff(cells[0])))
            parts = [f"{header[i]}: {c}" if header[i] not in ("meaning", "") else c
                     for i, c in enumerate(cells[1:], 1) if c]
            out.append(line_start(roff("; ".join(parts))))
            continue
        header = None
        if not raw.strip():
            out.append(".PP")
        else:
            out.append(line_start(roff(raw.lstrip("* "))))
    out += [".SH FILES",
            ".TP", "/etc/evsed/evsed.toml", "what an installer must set (a configuration file of the package)",
            ".TP", "/etc/evsed/evsed.toml.d/*.toml", "local changes, read after it in name order",
            ".TP", "/usr/share/doc/evsed/examples/evsed.toml", "every key with its default",
            ".TP", "/var/lib/evsed/settings.json", "run-time settings",
            ".SH SEE ALSO", "evsed(8)"]
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
