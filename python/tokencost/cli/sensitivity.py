"""tokencost sensitivity: tornado, 2-D grid and Monte Carlo of cost per MTok."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ._common import CSV_RULE, add_book, add_format, add_set, count, load_inputs, number


class ProgressBar:
    """A one-line progress bar on a stream (stderr).

    Shown only when the stream is a terminal (or ``force``) and only once the
    run has taken longer than ``after_s`` seconds, so short runs and pipes stay
    quiet.
    """

    def __init__(self, stream=None, label="Monte Carlo", after_s=1.0, force=None, width=30):
        self.stream = stream if stream is not None else sys.stderr
        tty = getattr(self.stream, "isatty", lambda: False)()
        self.enabled = tty if force is None else bool(force)
        self.label, self.after_s, self.width = label, after_s, width
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        if elapsed < self.after_s and not self.shown:
            return  # quiet until the run has taken after_s (short runs never show it)
        filled = int(self.width * done / max(total, 1))
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{done:,}/{total:,} draws, {elapsed:.1f} s")
        self.shown = True
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def register(sub):
    p = sub.add_parser(
        "sensitivity", help="tornado, 2-D grid and Monte Carlo of cost per MTok",
        description="How cost per million output tokens of one model profile moves with its "
                    "inputs. --tornado: each input at its low and high (sensitivity_ranges.csv, "
                    "else base -/+ --delta), sorted by swing. --grid A B: cost over two inputs. "
                    "--montecarlo N: N draws from distributions.csv -> P10/P50/P90 and a "
                    "histogram. Without any of them, --tornado. Input names: gpu_price_usd, "
                    "depreciation_years, infra_usd_per_month, power_w, pue, "
                    "power_price_usd_per_kwh, staff_usd_per_month, hours_per_month, "
                    "cost_of_capital, utilization, tokens_per_s.",
        epilog="Examples:\n  tokencost sensitivity\n"
               "  tokencost sensitivity --grid power_price_usd_per_kwh utilization --steps 5\n"
               "  tokencost sensitivity --montecarlo 1000000 --seed 1 --format json\n"
               "  tokencost sensitivity --tornado --montecarlo 100000 --plot sensitivity.png\n"
               "  tokencost sensitivity my-copy.xlsm --tornado   # the inputs an analyst edited",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_book(p)
    p.add_argument("--tornado", action="store_true", help="one-at-a-time low/high swings, sorted")
    p.add_argument("--grid", nargs=2, metavar=("A", "B"), help="cost per MTok over inputs A x B")
    p.add_argument("--steps", type=int, default=5, help="values per grid axis (default 5)")
    p.add_argument("--montecarlo", type=int, metavar="N", default=0, help="Monte Carlo draws")
    p.add_argument("--seed", type=count(0, 2**64 - 1), default=None,
                   help="random seed, a whole number >= 0 (default: fresh entropy)")
    p.add_argument("--bins", type=int, default=30, help="histogram bins (default 30)")
    p.add_argument("--delta", type=number(), default=0.2,
                   help="relative low/high for inputs without a range row (default 0.2 = +/-20%%)")
    p.add_argument("--model", default="dense-70b", metavar="PROFILE",
                   help="model profile (default: dense-70b)")
    p.add_argument("--data", type=Path, metavar="DIR",
                   help="folder of input CSV files (default: the shipped seed dataset); "
                        "distributions.csv and sensitivity_ranges.csv there replace the shipped "
                        f"ones; {CSV_RULE}")
    p.add_argument("--ranges", type=Path, metavar="CSV", help="tornado/grid ranges table (CSV)")
    p.add_argument("--distributions", type=Path, metavar="CSV",
                   help="Monte Carlo distributions table (CSV; with --montecarlo)")
    p.add_argument("--plot", type=Path, metavar="PNG", help="also write the charts to a PNG (matplotlib)")
    prog = p.add_mutually_exclusive_group()
    prog.add_argument("--progress", dest="progress", action="store_true", default=None,
                      help="show the progress bar even when stderr is not a terminal")
    prog.add_argument("--no-progress", dest="progress", action="store_false")
    add_format(p)
    add_set(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..inputs.reference_tables import read_catalog
    from ..render import render_sections, to_json
    from ..analysis import sensitivity as sens
    from . import UserFacingError

    inputs = load_inputs(args)
    tornado_on = args.tornado or not (args.grid or args.montecarlo)
    from ..errors import InputError
    if args.montecarlo < 0:
        raise InputError("--montecarlo", f"--montecarlo must be >= 1, got {args.montecarlo}")
    if args.distributions is not None and not args.montecarlo:   # not silently ignored
        raise InputError("--distributions", "--distributions is the table of --montecarlo N; "
                                            "give --montecarlo too")
    if args.plot is not None:
        _require_matplotlib(UserFacingError)
        from ..workbook.files import check_writable
        check_writable(args.plot)   # before the runs, not after them
    ranges = read_catalog("sensitivity_ranges.csv", args.data, args.ranges)
    distributions = (read_catalog("distributions.csv", args.data, args.distributions)
                     if args.montecarlo else None)
    bar = ProgressBar(force=args.progress) if args.progress is not False else None
    result = sens.run(inputs, args.model, ranges=ranges, distributions=distributions,
                      tornado_on=tornado_on, grid_inputs=args.grid, steps=args.steps,
                      montecarlo_n=args.montecarlo, seed=args.seed, bins=args.bins,
                      delta=args.delta, progress=bar)
    if args.plot is not None:
        write_plot(result, args.plot)

    if args.format == "json":
        sys.stdout.write(to_json(_lists(result)))
    else:
        sections, titles = {}, {}
        head = f"{result['model']} on {result['gpu']}, base cost ${result['base_cost_usd_per_mtok']:.4f}/MTok"
        if "tornado" in result:
            t = result["tornado"].copy()   # an input's values are shown by its own unit
            t.attrs.update(row_units=list(t["input"]),
                           row_unit_columns=["base_value", "low_value", "high_value"])
            sections["tornado"] = t
            titles["tornado"] = f"Tornado: {head}"
        if "grid" in result:
            g = result["grid"]
            frame = sens.grid_frame(g)
            frame.attrs["units"] = {g["x"]: g["x"], **{c: "cost_usd_per_mtok"
                                                       for c in frame.columns[1:]}}
            sections["grid"] = frame
            titles["grid"] = f"Cost per MTok (USD) over {g['x']} (rows) x {g['y']} (columns): {head}"
        if "montecarlo" in result:
            mc = result["montecarlo"]
            frames = sens.montecarlo_frames(mc)
            sections["montecarlo"] = frames["summary"]
            titles["montecarlo"] = f"Monte Carlo, {mc['n']:,} draws (seed {mc['seed']}): {head}"
            sections["histogram"] = frames["histogram"]
            titles["histogram"] = "Histogram of cost per MTok"
        sys.stdout.write(render_sections(sections, args.format, titles))
    if args.plot is not None:
        print(f"tokencost sensitivity: wrote {args.plot}", file=sys.stderr)
    return 0


def _lists(obj):
    """numpy arrays -> lists, recursively (the JSON renderer takes lists and frames)."""
    import numpy as np
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, dict):
        return {k: _lists(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_lists(v) for v in obj]
    return obj


def _require_matplotlib(error):
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise error("--plot needs matplotlib: pip install 'tokencost-xl[plot]'") from None


def write_plot(result: dict, path: Path) -> None:
    """Tornado bars, grid heat map and Monte Carlo histogram, one panel each, in a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    panels = [k for k in ("tornado", "grid", "montecarlo") if k in result]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.8), squeeze=False)
    base = result["base_cost_usd_per_mtok"]
    for ax, kind in zip(axes[0], panels):
        if kind == "tornado":
            t = result["tornado"].iloc[::-1]
            y = np.arange(len(t))
            lo, hi = t["cost_at_low_usd_per_mtok"].to_numpy(), t["cost_at_high_usd_per_mtok"].to_numpy()
            ax.barh(y, lo - base, left=base, color="#4C72B0", label="input at low")
            ax.barh(y, hi - base, left=base, color="#DD8452", label="input at high")
            ax.axvline(base, color="black", lw=0.8)
            ax.set_yticks(y, t["input"])
            ax.set_xlabel("cost per MTok (USD)")
            ax.set_title("Tornado")
            ax.legend(loc="lower right", fontsize=8)
        elif kind == "grid":
            g = result["grid"]
            im = ax.imshow(g["cost_usd_per_mtok"], origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(len(g["y_values"])), [f"{v:.3g}" for v in g["y_values"]])
            ax.set_yticks(range(len(g["x_values"])), [f"{v:.3g}" for v in g["x_values"]])
            ax.set_xlabel(g["y"])
            ax.set_ylabel(g["x"])
            ax.set_title("Cost per MTok (USD)")
            fig.colorbar(im, ax=ax)
        else:
            mc = result["montecarlo"]
            edges = np.asarray(mc["histogram"]["edges"])
            counts = np.asarray(mc["histogram"]["counts"])
            ax.stairs(counts, edges, fill=True, color="#55A868")
            for q in ("p10", "p50", "p90"):
                ax.axvline(mc[q], color="black", lw=0.8, ls="--")
                ax.text(mc[q], counts.max(), q.upper(), rotation=90, va="top", ha="right", fontsize=8)
            ax.set_xlabel("cost per MTok (USD)")
            ax.set_ylabel("draws")
            ax.set_title(f"Monte Carlo, {mc['n']:,} draws")
    fig.suptitle(f"{result['model']} on {result['gpu']}: base ${base:.4f}/MTok")
    fig.tight_layout()
    save_figure(fig, path)


def save_figure(fig, path: Path) -> None:
    """Write a matplotlib figure atomically (as every file tokencost writes) and close it;
    a file kind matplotlib cannot write is one line naming the option."""
    import matplotlib.pyplot as plt
    from ..workbook.files import write_atomic
    try:   # atomically, as every file tokencost writes (OutputError: one line)
        kinds = fig.canvas.get_supported_filetypes()
        if Path(path).suffix.lower().lstrip(".") not in kinds:
            from . import UserFacingError
            raise UserFacingError(f"--plot {path}: matplotlib writes {', '.join(sorted(kinds))}; "
                                  "name the file *.png (or another of them)")
        write_atomic(lambda tmp: fig.savefig(tmp, dpi=110), path)
    finally:
        plt.close(fig)
