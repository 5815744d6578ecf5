"""What creating files costs on this disk: N files of S bytes in one folder against the same
files spread over folders of K files (as a layout with a folder per URL path makes them), in
the same run, alternating; the reason `feed build` names files by content in one folder.

    python3 bench/files.py                   # 50,000 files of 8 KB, folders of 5, 3 rounds
    python3 bench/files.py -n 20000 -k 2 -r 5 --dir /some/disk

Each round writes into new folders under --dir (default: the current folder) and deletes
nothing until the end: creating files right after deleting a large tree is much slower on this
machine, which would distort the next measurement.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def write(root: Path, n: int, size: int, per_folder: int) -> float:
    body = os.urandom(size)
    started = time.perf_counter()
    folder = str(root)
    for i in range(n):
        if per_folder and i % per_folder == 0:
            folder = f"{root}/d{i // per_folder}"
            os.mkdir(folder)
        with open(f"{folder}/f{i}", "xb") as handle:
            handle.write(body)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=50000, help="files per measurement")
    parser.add_argument("-s", "--size", type=int, default=8000, help="bytes per file")
    parser.add_argument("-k", type=int, default=5, help="files per folder when spread")
    parser.add_argument("-r", "--repeat", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path.cwd())
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="feed-bench-files-", dir=args.dir))
    try:
        one: list[float] = []
        spread: list[float] = []
        for r in range(args.repeat):
            (work / f"one-{r}").mkdir()
            (work / f"spread-{r}").mkdir()
            one.append(write(work / f"one-{r}", args.n, args.size, 0))
            spread.append(write(work / f"spread-{r}", args.n, args.size, args.k))
            print(
                f"  round {r + 1}: one folder {one[-1]:.2f} s, "
                f"folders of {args.k} {spread[-1]:.2f} s"
            )
        a, b = statistics.median(one), statistics.median(spread)
        print(
            f"{args.n} files of {args.size} bytes, median of {args.repeat}: one folder {a:.2f} s, "
            f"{args.n // args.k} folders of {args.k}: {b:.2f} s ({b / a:.1f}x)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
