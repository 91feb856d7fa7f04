"""The source text of a @jit function as the C++ compiler sees it, and the names it reads.

A kernel's text is taken from its file with `inspect.getsourcelines` (decorators included), dedented, and
its decorator lines are blanked (they may hold Python the kernel language does not parse: autotune
configs, heuristics lambdas). The blank lines are reused for `import triton.language as <alias>` lines
that tell the frontend which names are the language module, and for a plain `@jit` right above the def,
so that line numbers stay those of the user's file: the text starts at line `line_offset + 1` of
`file_name`.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from dataclasses import dataclass, field


@dataclass
class FunctionSource:
    text: str  # dedented, decorators blanked (before the import lines are placed)
    file_name: str
    line_offset: int  # line number of the text's first line, minus one
    def_line: int  # 1-based line of `def` inside text
    param_names: list[str]
    used_names: list[str] = field(default_factory=list)  # names read in the body, in order, unique

    def with_imports(self, import_lines: list[str]) -> tuple[str, int]:
        """The text with `import_lines` and a `@jit` decorator placed before the def (in the blank decorator
        lines where there are enough, else prepended when the line offset leaves room) and its line offset."""
        lines = self.text.split("\n")
        prefix = list(import_lines) + ["@jit"]
        room = self.def_line - 1
        offset = self.line_offset
        extra = max(0, len(prefix) - room)
        if extra > offset:  # cannot move the text up that far: keep the decorator and the imports that fit
            prefix = prefix[len(prefix) - (room + offset):] if room + offset else []
            extra = max(0, len(prefix) - room)
        if extra:
            lines = [""] * extra + lines
            offset -= extra
        def_index = self.def_line - 1 + extra  # 0-based index of the def line
        for i, text in enumerate(prefix):
            lines[def_index - len(prefix) + i] = text
        return "\n".join(lines), offset


def function_source(fn) -> FunctionSource:
    try:
        src_lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as e:
        raise ValueError(f"mini_triton: cannot read the source of {getattr(fn, '__name__', fn)!r}: {e}") from e
    file_name = inspect.getsourcefile(fn) or fn.__code__.co_filename
    text = textwrap.dedent("".join(src_lines))
    tree = ast.parse(text)
    fdef = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if fdef is None:
        raise ValueError(f"mini_triton: {fn.__name__!r} is not defined by a `def` statement")
    lines = text.split("\n")
    for i in range(fdef.lineno - 1):  # decorator lines (and comments between them)
        lines[i] = ""
    params = [a.arg for a in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs]
    used = []
    seen = set(params)
    for node in _walk_body(fdef):
        if isinstance(node, ast.Name) and node.id not in seen:
            seen.add(node.id)
            used.append(node.id)
    return FunctionSource("\n".join(lines), file_name, max(0, first_line - 1), fdef.lineno, params, used)


def _walk_body(fdef):
    """Nodes of the body, parameter annotations and defaults (not the decorators)."""
    roots = list(fdef.body)
    args = fdef.args
    for a in args.posonlyargs + args.args + args.kwonlyargs:
        if a.annotation is not None:
            roots.append(a.annotation)
    roots += [d for d in args.defaults + args.kw_defaults if d is not None]
    for r in roots:
        yield from ast.walk(r)


def closure_vars(fn) -> dict:
    """Free variables of `fn` bound in enclosing functions."""
    code = fn.__code__
    if not code.co_freevars or not fn.__closure__:
        return {}
    out = {}
    for name, cell in zip(code.co_freevars, fn.__closure__):
        try:
            out[name] = cell.cell_contents
        except ValueError:  # empty cell
            pass
    return out


def module_path(mod: types.ModuleType) -> str | None:
    """The Triton module path the frontend knows for a mini_triton (or triton) module, else None."""
    name = getattr(mod, "__name__", "")
    if name == "mini_triton" or name.startswith("mini_triton."):
        return "triton" + name[len("mini_triton"):]
    if name == "triton" or name.startswith("triton."):
        return name
    return None
