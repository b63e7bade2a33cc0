#!/usr/bin/env python3
# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Write the addon's README.rst from its readme/ fragments, as OCA's
oca-gen-addon-readme lays it out (title, licence badge, description, table
of contents, one section per fragment, credits).

oca-gen-addon-readme itself is not on PyPI, so this stands in for it: the
Markdown fragments are converted with pandoc (pypandoc_binary, installed
with the static checks). Exits 1 when README.rst changed, as pre-commit
expects from a hook that rewrites a file.

    python bin/_addon_readme.py [ADDON_DIR]
"""

import ast
import sys
from pathlib import Path

import pypandoc

REPO_ROOT = Path(__file__).resolve().parent.parent
# Order and titles of OCA's template; the fragments absent are left out.
FRAGMENTS = (
    ("DESCRIPTION", None),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("DEVELOP", "Development"),
)
LICENSE_BADGES = {
    "LGPL-3": (
        "https://img.shields.io/badge/licence-LGPL--3-blue.png",
        "http://www.gnu.org/licenses/lgpl-3.0-standalone.html",
        "License: LGPL-3",
    ),
    "AGPL-3": (
        "https://img.shields.io/badge/licence-AGPL--3-blue.png",
        "http://www.gnu.org/licenses/agpl-3.0-standalone.html",
        "License: AGPL-3",
    ),
}


def heading(title, char, overline=False):
    rule = char * len(title)
    return f"{rule}\n{title}\n{rule}\n" if overline else f"{title}\n{rule}\n"


def fragment_rst(path):
    # Fragments use "##" for their sections: rst level 2 ("-"), under the
    # level-1 section ("=") this script writes for each fragment.
    return pypandoc.convert_text(
        path.read_text(encoding="utf-8"),
        "rst",
        format="gfm",
        extra_args=["--columns=88"],
    ).strip()


def render(addon_dir):
    manifest = ast.literal_eval((addon_dir / "__manifest__.py").read_text())
    parts = [heading(manifest["name"], "=", overline=True)]
    badge = LICENSE_BADGES.get(manifest.get("license"))
    if badge:
        image, target, alt = badge
        parts.append(
            f".. |badge1| image:: {image}\n    :target: {target}\n"
            f"    :alt: {alt}\n\n|badge1|\n"
        )
    readme = addon_dir / "readme"
    toc_written = False
    for name, title in FRAGMENTS:
        path = readme / f"{name}.md"
        if not path.exists():
            continue
        if title:
            if not toc_written:
                parts.append("**Table of contents**\n\n.. contents::\n   :local:\n")
                toc_written = True
            parts.append(heading(title, "="))
        parts.append(fragment_rst(path) + "\n")
    parts.append(heading("Credits", "="))
    parts.append(heading("Authors", "-"))
    authors = [a.strip() for a in manifest.get("author", "").split(",") if a.strip()]
    parts.append("".join(f"* {author}\n" for author in authors))
    return "\n".join(parts)


def main(argv):
    addon_dir = Path(argv[1]) if len(argv) > 1 else REPO_ROOT / "sales_pipeline_mgmt"
    target = addon_dir / "README.rst"
    text = render(addon_dir)
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return 0
    target.write_text(text, encoding="utf-8")
    print(f"{target.relative_to(REPO_ROOT)} written from readme/")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
