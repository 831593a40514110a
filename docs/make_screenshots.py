"""Regenerate the report screenshots in docs/: run a few shipped recipes with small budgets, open each report.html
in headless Chromium and save PNGs.

    .venv/bin/python docs/make_screenshots.py              # every recipe below (5-10 minutes on 2 busy cores)
    .venv/bin/python docs/make_screenshots.py titanic      # only some (names from RECIPES)
    .venv/bin/python docs/make_screenshots.py --keep-runs /tmp/shots   # keep the run directories there

For each recipe it writes `docs/screenshots/<name>-overview.png` (the top of the page at full size: the headline,
recipe, data and plan) and `docs/screenshots/<name>-full.png` (the whole page at 60 % scale); the mammography run
also gives `docs/report.png`, the screenshot the README links. The runs go to a temporary runs directory (nothing
under runs/ is touched). Chromium: `chromium` or `chromium-browser` on PATH (Debian: `apt-get install chromium`).

Chromium's `--screenshot` captures the window, not the page, so the full-page shot uses a window taller than any
report and crops the empty background below the footer. The overrides keep each run short; they change the numbers
on the page (fewer trees, folds or trials than the recipe), not which sections it has.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
WIDTH = 1280
OVERVIEW_HEIGHT = 2400
FULL_SCALE = 0.6
FULL_WINDOW = 25000  # CSS pixels: taller than any report (these are 7,800-10,500), cropped afterwards
BACKGROUND = (0xF8, 0xFA, 0xFC)  # the page's --bg, below the footer

# recipe file -> (screenshot name, overrides that keep the run small)
RECIPES: dict[str, tuple[str, list[str]]] = {
    "titanic.yaml": ("titanic", ["cv.folds=3"]),
    "titanic_search.yaml": ("titanic_search", ["search.trials=6", "search.time_budget=30"]),
    "wine_quality.yaml": ("wine_quality", ["cv.folds=3", "model.params.n_estimators=60"]),
    "nyc_taxis_fare.yaml": ("nyc_taxis_fare", ["cv.folds=3"]),
    "mammography.yaml": ("mammography", ["cv.folds=3"]),
}
README_SHOT = ("mammography", ROOT / "docs" / "report.png")  # the one the README shows


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        sys.exit("no Chromium on PATH (Debian: apt-get install -y chromium)")
    return found


def screenshot(browser: str, page: Path, out: Path, height: int, scale: float, profile: Path) -> None:
    """One PNG of `page` in a WIDTH x height window (CSS pixels) at device scale `scale`."""
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
             "--disable-background-networking", f"--user-data-dir={profile}", f"--window-size={WIDTH},{height}",
             f"--force-device-scale-factor={scale}", "--virtual-time-budget=10000", f"--screenshot={out}"]
    proc = subprocess.run([browser, *flags, page.as_uri()], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not out.is_file():
        raise RuntimeError(f"chromium failed on {page}: {proc.stderr[-2000:]}")


def crop_background(path: Path, margin: int = 12) -> tuple[int, int]:
    """Cut the rows of plain background below the page's last content; returns the new size."""
    import numpy as np
    from PIL import Image

    img = Image.open(path).convert("RGB")
    px = np.asarray(img)
    differs = np.any(np.abs(px.astype(int) - np.array(BACKGROUND)).max(axis=2) > 2, axis=1)
    rows = np.flatnonzero(differs)
    bottom = min(img.height, int(rows[-1]) + 1 + margin) if len(rows) else img.height
    img.crop((0, 0, img.width, bottom)).save(path, optimize=True)
    return img.width, bottom


def run_recipe(recipe: str, overrides: list[str], runs_dir: Path) -> Path:
    import mlengine

    result = mlengine.run(ROOT / "recipes" / recipe, overrides=overrides, runs_dir=runs_dir)
    return Path(result.run_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="screenshot names to make (default: all): "
                                                 + ", ".join(n for n, _ in RECIPES.values()))
    parser.add_argument("--keep-runs", type=Path, help="write the runs here and keep them (default: a temp dir)")
    args = parser.parse_args(argv)
    known = {name: (recipe, ov) for recipe, (name, ov) in RECIPES.items()}
    unknown = [n for n in args.names if n not in known]
    if unknown:
        parser.error(f"unknown name(s) {', '.join(unknown)}; known: {', '.join(known)}")
    browser = chromium()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlengine-shots-") as tmp:
        runs_dir = args.keep_runs or Path(tmp) / "runs"
        for name in args.names or list(known):
            recipe, overrides = known[name]
            start = time.perf_counter()
            run_dir = run_recipe(recipe, overrides, runs_dir)
            page = run_dir / "report.html"
            overview = OUT / f"{name}-overview.png"
            full = OUT / f"{name}-full.png"
            screenshot(browser, page, overview, OVERVIEW_HEIGHT, 1.0, Path(tmp) / "profile")
            screenshot(browser, page, full, FULL_WINDOW, FULL_SCALE, Path(tmp) / "profile")
            size = crop_background(full)
            if name == README_SHOT[0]:
                shutil.copyfile(full, README_SHOT[1])
            print(f"{name}: {overview.relative_to(ROOT)}, {full.relative_to(ROOT)} {size[0]}x{size[1]} "
                  f"({time.perf_counter() - start:.0f} s; run {run_dir})", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
