"""Writing one benchmark's section of docs/benchmarks.md.

Each benchmark owns the part between its markers, ``<!-- bench:NAME:start … -->`` and
``<!-- bench:NAME:end -->``, and rewrites only that; the first report appends its section (after
an optional introduction) at the end of the file.
"""

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_section(name: str, generated: str, intro: str = "") -> None:
    """Put ``generated`` (which starts and ends with the two markers) in place of NAME's section."""
    start, end = f"<!-- bench:{name}:start", f"<!-- bench:{name}:end -->"
    # Read right before writing: other benchmarks own other sections of this file.
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if start in text and end in text:
        text = text[: text.index(start)] + generated + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + (intro.strip() + "\n\n" if intro else "") + generated + "\n"
    DOC.write_text(text)
    print(f"wrote {DOC.relative_to(DOC.parent.parent)}")
