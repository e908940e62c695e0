#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Keeps the guided tour (docs/tour/*.md) true to the code it walks through.

usage: tests/tour-check.py refs            -- every code reference names the right line
       tests/tour-check.py --fix           -- move stale references to where their code is now
       tests/tour-check.py commands [--hv PATH]
                                           -- run every ```console block and compare
Run from the project root. Prints "ok - ..." or "FAIL - ..." per chapter (refs) or per
command (commands), details indented below a failure; exits 1 if anything failed.

A code reference is a Markdown link whose text is `PATH:LINE`, whose target is the same
file relative to the chapter with #LLINE, followed by the code the line must hold:

    [`hv-iface/hv/hypercall.c:165`](../../hv-iface/hv/hypercall.c#L165) (`hypercall_dispatch`)

The code in the parentheses is found in PATH: when one line holds it, that is its line. When
several do and it is a bare name, the line that defines it counts: a line that starts in
column 0 (a function's, a table's or a type's first line, a #define, an assembly label) and
is not a declaration ending in ';'. Anything else that is not on exactly one line is an
error: make the quoted code longer. --fix rewrites the line numbers of the stale references
to where their code is now, and says which it could not place.

A ```console block holds commands, each a line starting with "$ " (a line ending in "\\"
goes on with the next), each followed by its output: stdout and stderr as a terminal shows
them. In the expected output "..." alone on a line stands for any number of lines, <n> for
a number (123, 4.5, 1.00e-05) and <*> for any text within a line. Commands run one by one
with bash from the project root; --hv replaces build/hv in them (a sanitized hv, say).
Blocks of any other kind (```text, ```sh) are shown, never run.
"""
import os
import re
import subprocess
import sys

TOUR = "docs/tour"
REF = re.compile(
    r"\[`(?P<path>[^`\s:]+):(?P<line>\d+)`\]\((?P<target>[^)\s#]+)#L(?P<tline>\d+)\)"
    r"(?P<snip>\s*\(`(?P<code>[^`]+)`\))?"
)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
COMMAND_TIMEOUT = 120


def chapters():
    return sorted(
        os.path.join(TOUR, f) for f in os.listdir(TOUR) if f.endswith(".md")
    )


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().split("\n")


def defines(line, name):
    """Whether line is where name is defined (see the rules above)."""
    if re.match(r"#\s*define\s+" + re.escape(name) + r"\b", line):
        return True
    if re.match(re.escape(name) + r":", line):
        return True
    return (
        bool(re.match(r"[A-Za-z_]", line))
        and re.search(r"\b" + re.escape(name) + r"\b", line) is not None
        and not line.rstrip().endswith(";")
    )


def locate(lines, code):
    """(line number, None) of code's one line, or (None, why not)."""
    hits = [i + 1 for i, text in enumerate(lines) if code in text]
    if len(hits) > 1 and NAME.match(code):
        definitions = [n for n in hits if defines(lines[n - 1], code)]
        if not definitions:
            return None, "on lines %s, none of them its definition" % ", ".join(map(str, hits))
        hits = definitions
    if len(hits) == 1:
        return hits[0], None
    if not hits:
        return None, "not found"
    return None, "on several lines (%s): quote more of it" % ", ".join(map(str, hits))


def check_ref(md, m):
    """None when the reference m of chapter md holds, else (why, line where it is now or None)."""
    path, line, code = m["path"], int(m["line"]), m["code"]
    if code is None:
        return "no quoted code after the link to check it by", None
    target = os.path.normpath(os.path.join(os.path.dirname(md), m["target"]))
    if target != os.path.normpath(path):
        return "the link goes to %s, not %s" % (target, path), None
    if int(m["tline"]) != line:
        return "the text says line %d, the link #L%s" % (line, m["tline"]), None
    if not os.path.isfile(path):
        return "no such file", None
    now, why = locate(read_lines(path), code)
    if now is None:
        return "`%s` is %s in %s" % (code, why, path), None
    if now != line:
        return "`%s` is now at line %d" % (code, now), now
    return None


def refs(fix):
    failed = False
    for md in chapters():
        with open(md, encoding="utf-8") as f:
            text = f.read()
        problems, edits, count = [], [], 0
        for m in REF.finditer(text):
            count += 1
            result = check_ref(md, m)
            if result is None:
                continue
            why, now = result
            where = "%s:%d" % (md, text.count("\n", 0, m.start()) + 1)
            if fix and now is not None:
                edits.append((m, now))
                print("fixed: %s: %s:%s -> %d" % (where, m["path"], m["line"], now))
            else:
                problems.append("%s: %s:%s: %s" % (where, m["path"], m["line"], why))
        for m, now in reversed(edits):
            new = "[`%s:%d`](%s#L%d)%s" % (m["path"], now, m["target"], now, m["snip"])
            text = text[: m.start()] + new + text[m.end():]
        if edits:
            with open(md, "w", encoding="utf-8") as f:
                f.write(text)
        if problems:
            failed = True
            print("FAIL - %s: %d of %d code references stale" % (md, len(problems), count))
            for p in problems:
                print("    " + p)
        else:
            print("ok - %s: %d code references hold" % (md, count))
    return 1 if failed else 0


def console_blocks(md):
    """(first line number, [(command, [expected lines], line number)]) for each console block."""
    lines = read_lines(md)
    blocks, i = [], 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        start, i, cmds = i + 1, i + 1, []
        while i < len(lines) and lines[i].strip() != "```":
            line = lines[i]
            if line.startswith("$ "):
                cmd, at = line[2:], i + 1
                while cmd.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    cmd = cmd + "\n" + lines[i]
                cmds.append((cmd, [], at))
            elif cmds:
                cmds[-1][1].append(line)
            i += 1
        blocks.append((start, cmds))
        i += 1
    return blocks


def line_pattern(expected):
    parts = re.split(r"(<n>|<\*>)", expected.rstrip())
    out = []
    for p in parts:
        if p == "<n>":
            out.append(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
        elif p == "<*>":
            out.append(r".*")
        else:
            out.append(re.escape(p))
    return re.compile("".join(out) + r"\Z")


def matches(expected, actual):
    """Whether the actual lines are what the expected lines describe."""
    pats = [None if e.strip() == "..." else line_pattern(e) for e in expected]
    memo = {}

    def at(i, j):
        if (i, j) in memo:
            return memo[i, j]
        if i == len(pats):
            r = j == len(actual)
        elif pats[i] is None:
            r = any(at(i + 1, k) for k in range(j, len(actual) + 1))
        else:
            r = j < len(actual) and pats[i].match(actual[j]) is not None and at(i + 1, j + 1)
        memo[i, j] = r
        return r

    return at(0, 0)


def commands(hv):
    failed = False
    for md in chapters():
        for _, cmds in console_blocks(md):
            for cmd, expected, at in cmds:
                while expected and not expected[-1].strip():
                    expected.pop()
                run = cmd
                if hv and hv != "build/hv":
                    run = re.sub(r"(?<![\w/.-])build/hv(?![\w/.-])", hv, cmd)
                try:
                    p = subprocess.run(
                        ["bash", "-c", run],
                        stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT,
                        timeout=COMMAND_TIMEOUT,
                    )
                    out = p.stdout.decode("utf-8", "replace")
                except subprocess.TimeoutExpired:
                    out = "(still running after %d s)\n" % COMMAND_TIMEOUT
                actual = out.split("\n")
                if actual and actual[-1] == "":
                    actual.pop()
                actual = [a.rstrip() for a in actual]
                shown = re.sub(r"\\\n\s*", "", cmd)
                name = "%s:%d: $ %s" % (md, at, shown if len(shown) < 90 else shown[:87] + "...")
                if matches(expected, actual):
                    print("ok - " + name)
                    continue
                failed = True
                print("FAIL - " + name)
                for e in expected:
                    print("    expected: " + e)
                for a in actual[:40]:
                    print("    got:      " + a)
    return 1 if failed else 0


def main(argv):
    if len(argv) == 2 and argv[1] == "refs":
        return refs(False)
    if len(argv) == 2 and argv[1] == "--fix":
        return refs(True)
    if len(argv) in (2, 4) and argv[1] == "commands":
        hv = argv[3] if len(argv) == 4 and argv[2] == "--hv" else None
        if len(argv) == 4 and hv is None:
            return usage()
        return commands(hv)
    return usage()


def usage():
    sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
