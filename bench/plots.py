"""The benchmarks' plots: PNGs in docs/plots/, linked from docs/benchmarks.md.

    throughput_plot("ingest-throughput", "Ingest: requests/s by clients", "clients",
                    "requests/s", {"ingest, native": [(1, 946.0), (4, 1672.0)], ...})
    latency_cdf_plot("live-latency", "Send to subscriber", {"embedded, 1,000/s": [8.1, ...]})

Each returns the Markdown that shows the picture (``![title](plots/name.png)``), for the
section's notes. Drawn headless (matplotlib's Agg backend), without the metadata that
changes from run to run, so a rerun with the same numbers writes the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: no display here, and none wanted

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parent.parent
PLOT_DIR = ROOT / "docs" / "plots"
_DOC_DIR = ROOT / "docs"
_PNG_METADATA: dict[str, str | None] = {"Software": None}


def _save(figure: Figure, name: str, directory: Path) -> Path:
    if not name or "/" in name or name.endswith(".png"):
        raise ValueError(f"a plot name is a bare file stem, not {name!r}")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    figure.savefig(path, dpi=110, bbox_inches="tight", metadata=_PNG_METADATA)
    plt.close(figure)
    return path


def _link(title: str, path: Path) -> str:
    try:
        target = path.resolve().relative_to(_DOC_DIR)
    except ValueError:
        target = path
    return f"![{title}]({target.as_posix()})"


def throughput_plot(
    name: str,
    title: str,
    x_label: str,
    y_label: str,
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    directory: Path = PLOT_DIR,
) -> str:
    """One line per series of (x, y) points, e.g. requests/s against concurrent clients;
    a log x axis when x spans more than a factor of 8 (1, 4, 16 clients)."""
    figure, axes = plt.subplots(figsize=(7, 4))
    xs_all: list[float] = []
    for label, points in series.items():
        ordered = sorted(points)
        if not ordered:
            continue
        xs = [x for x, _ in ordered]
        xs_all += xs
        axes.plot(xs, [y for _, y in ordered], marker="o", label=label)
    if xs_all and min(xs_all) > 0 and max(xs_all) / min(xs_all) > 8:
        axes.set_xscale("log", base=2)
        ticks = sorted(set(xs_all))
        axes.set_xticks(ticks, [f"{t:g}" for t in ticks])
    axes.set_title(title)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    axes.set_ylim(bottom=0)
    axes.grid(True, alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize="small")
    return _link(title, _save(figure, name, directory))


def latency_cdf_plot(
    name: str,
    title: str,
    series: Mapping[str, Sequence[float]],
    *,
    x_label: str = "latency, ms (log scale)",
    directory: Path = PLOT_DIR,
) -> str:
    """The empirical CDF of each series of latencies (ms): the share of requests at or
    below each latency, on a log x axis so p50 and p99 both show."""
    figure, axes = plt.subplots(figsize=(7, 4))
    for label, samples in series.items():
        ordered = sorted(s for s in samples if math.isfinite(s) and s > 0)
        if not ordered:
            continue
        shares = [(i + 1) / len(ordered) for i in range(len(ordered))]
        axes.step(ordered, shares, where="post", label=f"{label} (n={len(ordered):,})")
    axes.set_xscale("log")
    axes.set_title(title)
    axes.set_xlabel(x_label)
    axes.set_ylabel("share of requests at or below")
    axes.set_ylim(0, 1.01)
    for share in (0.5, 0.95, 0.99):
        axes.axhline(share, color="grey", linewidth=0.6, linestyle=":")
    axes.grid(True, which="both", alpha=0.2)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize="small", loc="lower right")
    return _link(title, _save(figure, name, directory))
