#!/usr/bin/env python3
"""Checks that the runtime's top-level modules depend on each other one way only.

The layers of `ipc-runtime/src`, top to bottom, are declared below (and drawn in
docs/ARCHITECTURE.md). A module may use modules of the layers below its own, and modules of its
own layer as long as that makes no cycle. The script reads every `crate::...` path in the code
(not in comments: intra-doc links are documentation, not dependencies), maps paths through the
crate root's re-exports (`crate::Main` is `main`), and fails on:

- a dependency on a higher layer (for example `renderer` using `main`);
- any cycle between top-level modules;
- a top-level module that is not placed in a layer.

Usage: python3 scripts/check-layers.py [--graph]   (--graph prints who uses whom)
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "ipc-runtime", "src")

# Top to bottom. Modules in one row are one layer.
LAYERS = [
    ["__fuzz"],  # entry points for the fuzz targets (feature `fuzzing`), above everything
    ["main"],  # main's side: Main, registry, a renderer's connection as main serves it, endpoints
    ["renderer"],  # the renderer's side: Renderer, calls in flight, outbox, event streams
    ["capability"],  # handles to objects on the other side, their calls, served over ports
    ["port"],  # ports and streams: typed ends, per-connection port tables, credits, relays
    ["transport"],  # what carries a connection, and the messages it carries
    ["wire"],  # frames, codecs, framing, handshake checks, payloads
    ["caller", "channel", "error", "limits"],  # shared vocabulary and defaults
    ["access"],  # what a renderer is granted (its caller carries it)
    ["util"],  # locking, deadlines, the alarm thread
]

LAYER_OF = {module: depth for depth, row in enumerate(LAYERS) for module in row}


def strip_comments(text):
    """The code of a Rust file without `//` comments and `/* */` blocks (strings kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif text[i] == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def crate_paths(code):
    """The first segment of every `crate::` path, expanding `crate::{a, b::c}` groups."""
    segments = []
    for match in re.finditer(r"\bcrate::", code):
        rest = code[match.end() :].lstrip()
        if rest.startswith("{"):
            depth, end = 0, 0
            for end, char in enumerate(rest):
                depth += char == "{"
                depth -= char == "}"
                if depth == 0:
                    break
            group = rest[1:end]
            # Top-level items of the group: split on commas outside nested braces.
            depth, item = 0, ""
            for char in group + ",":
                if char == "," and depth == 0:
                    head = re.match(r"\s*(\w+)", item)
                    if head:
                        segments.append(head.group(1))
                    item = ""
                    continue
                depth += char == "{"
                depth -= char == "}"
                item += char
        else:
            head = re.match(r"(\w+)", rest)
            if head:
                segments.append(head.group(1))
    return segments


def root_reexports():
    """Names the crate root re-exports, mapped to the top-level module they come from."""
    with open(os.path.join(ROOT, "lib.rs"), encoding="utf-8") as f:
        code = strip_comments(f.read())
    names = {}
    for match in re.finditer(r"pub use (\w+)::(\{[^}]*\}|\w+)", code):
        module, items = match.group(1), match.group(2)
        if module == "crate":
            continue  # `__private` re-exporting the root's own names
        for name in re.findall(r"\w+", items):
            names.setdefault(name, module)
    return names


def top_module(path):
    rel = os.path.relpath(path, ROOT)
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def dependencies():
    reexports = root_reexports()
    graph = {}
    for folder, _, files in os.walk(ROOT):
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            module = top_module(path)
            if module == "lib":
                continue
            with open(path, encoding="utf-8") as f:
                code = strip_comments(f.read())
            uses = graph.setdefault(module, {})
            for segment in crate_paths(code):
                target = reexports.get(segment, segment)
                if target in ("__private", "schema", module):
                    continue
                uses.setdefault(target, set()).add(os.path.relpath(path, ROOT))
    return graph


def find_cycle(graph):
    """One cycle of the graph as a list of modules, or None."""
    state = {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for next_node in sorted(graph.get(node, {})):
            if state.get(next_node) == "open":
                return stack[stack.index(next_node) :] + [next_node]
            if next_node not in state:
                found = visit(next_node, stack)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def main():
    graph = dependencies()
    problems = []
    for module in sorted(graph):
        if module not in LAYER_OF:
            problems.append(f"`{module}` is in no layer: add it to LAYERS in {sys.argv[0]}")
    for module, uses in sorted(graph.items()):
        for target, files in sorted(uses.items()):
            if target not in LAYER_OF and target in graph:
                continue  # reported above
            if target not in LAYER_OF:
                problems.append(f"`{module}` uses `crate::{target}`, which is not a module")
                continue
            if module in LAYER_OF and LAYER_OF[target] < LAYER_OF[module]:
                problems.append(
                    f"`{module}` uses `{target}`, a layer above it (in {', '.join(sorted(files))})"
                )
    cycle = find_cycle({m: set(u) & set(graph) for m, u in graph.items()})
    if cycle:
        problems.append("import cycle: " + " -> ".join(cycle))

    if "--graph" in sys.argv or problems:
        for row in LAYERS:
            for module in row:
                uses = sorted(graph.get(module, {}))
                print(f"  {module:<10} uses {', '.join(uses) if uses else '(nothing)'}")
    if problems:
        print("layer check failed:")
        for problem in problems:
            print(f"  - {problem}")
        sys.exit(1)
    print(f"layers ok: {len(graph)} top-level modules, dependencies run one way")


if __name__ == "__main__":
    main()
