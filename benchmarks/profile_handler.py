"""A profile of one pinned handler of ``handlers.py``: purposeful's functions by own time.

    python benchmarks/profile_handler.py list_view_sdk_pseudonyms
    python benchmarks/profile_handler.py db_list_view --calls 200 --top 10

Runs the guarded variant of the handler (named ``{base}{suffix}``: ``list_view``,
``list_view_sdk``, ``list_view_sdk_pseudonyms``, ``list_view_consent``,
``list_view_big_caller``, ``detail_view``, ``db_list_view``) *calls* times under
``cProfile``, with the garbage collector off (as ``timeit`` has it for ``run.py``'s figures),
in the handler's configuration, after one warm-up call, and prints the *top* functions of
the library (``src/purposeful``, and the getters it generates for managed fields) by own
time (``tottime``): microseconds per handler call,
the share of the handler's whole time, and calls per handler call. ``--all`` ranks every
function, the standard library's and other packages' too. cProfile's own cost
inflates functions that make many small calls: read the ranking, not the absolute figures
(those are ``run.py``'s).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
from pathlib import Path

import handlers

import purposeful

LIBRARY = str(Path(purposeful.__file__).parent)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("handler", help="e.g. list_view_sdk_pseudonyms or db_list_view")
    parser.add_argument("--calls", type=int, default=500, help="guarded calls profiled")
    parser.add_argument("--top", type=int, default=10, help="functions listed")
    parser.add_argument("--people", type=int, default=100_000, help="in the consent store")
    parser.add_argument("--all", action="store_true", help="rank every function, not only ours")
    args = parser.parse_args(argv)

    with handlers.pairs(args.people) as pairs:
        found = {f"{pair.base}{pair.suffix}": pair for pair in pairs}
        pair = found.get(args.handler)
        if pair is None:
            parser.error(f"no handler {args.handler!r}; one of {', '.join(sorted(found))}")
        if pair.guarded is None:
            parser.error(f"{args.handler} needs an optional package that is not installed")
        guarded = pair.guarded
        with purposeful.configured(**pair.configuration):
            guarded()  # warm-up
            profiler = cProfile.Profile()
            gc.disable()  # as timeit does for run.py's figures: no collection pauses charged
            try:
                profiler.enable()
                for _ in range(args.calls):
                    guarded()
                profiler.disable()
            finally:
                gc.enable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tottime for _, _, tottime, _, _ in stats.values())
    rows = sorted(
        (
            (tottime, calls, _where(file, line, name), file)
            for (file, line, name), (_, calls, tottime, _, _) in stats.items()
            if args.all or _ours(file)
        ),
        reverse=True,
    )
    per_call = 1e6 / args.calls
    print(
        f"{args.handler}: guarded variant, {args.calls} calls, "
        f"{total * per_call:,.1f} µs per call under cProfile"
    )
    print(f"{'own µs/call':>12} {'share':>6} {'calls/call':>10}  function")
    for tottime, calls, where, _ in rows[: args.top]:
        print(
            f"{tottime * per_call:12.1f} {tottime / total:6.1%} {calls / args.calls:10.1f}  {where}"
        )
    return 0


def _ours(file: str) -> bool:
    """The library's own code: its modules, and the getters `_guard` generates for each
    managed field (their file is ``<purposeful guard Class.field>``)."""
    return file.startswith((LIBRARY, "<purposeful"))


def _where(file: str, line: int, name: str) -> str:
    """``purposeful._scope:198(read)`` for the library's functions, else the file's name."""
    if not line:  # a built-in
        return name
    if file.startswith(LIBRARY):
        parts = Path(file).relative_to(LIBRARY).with_suffix("").parts
        module = ".".join(("purposeful", *(p for p in parts if p != "__init__")))
        return f"{module}:{line}({name})"
    return f"{Path(file).name}:{line}({name})"


if __name__ == "__main__":
    raise SystemExit(main())
