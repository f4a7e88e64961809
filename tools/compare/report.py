"""Figures of tools/karst-compare into a table, a CSV and a PNG.

Each figure is the median of its runs with min and max. The ratio is
karst/Linux for figures where higher is better and Linux/karst where
lower is better, so above 1 always means karst is better. A figure a
guest does not have prints `-`.
"""
import csv
import os
import shutil
import statistics
import subprocess


def summary(samples):
    if not samples:
        return None
    return statistics.median(samples), min(samples), max(samples)


def ratio(fig, k, l):
    if not k or not l:
        return None
    if fig.higher:
        return k[0] / l[0] if l[0] else None
    return l[0] / k[0] if k[0] else None


def _num(v):
    if v >= 100 or v == int(v):
        return "%d" % round(v)
    return "%.3g" % v


def _cell(s):
    if not s:
        return "-"
    med, lo, hi = s
    return "%s [%s-%s]" % (_num(med), _num(lo), _num(hi)) if lo != hi else _num(med)


def rows(workloads, results):
    """(figure, karst summary, linux summary, ratio) for every figure."""
    out = []
    for w in workloads:
        for f in w.figures:
            k = summary(results["karst"].get(f.name, []))
            l = summary(results["linux"].get(f.name, []))
            out.append((f, k, l, ratio(f, k, l)))
    return out


def table(title, table_rows, notes):
    lines = [title]
    head = ("figure", "unit", "karst", "Linux", "karst/Linux")
    body = []
    for f, k, l, r in table_rows:
        unit = f.unit + (" (lower better)" if not f.higher else "")
        body.append((f.name, unit.strip(), _cell(k), _cell(l), "%.2f" % r if r else "-"))
    widths = [max(len(x[i]) for x in [head] + body) for i in range(5)]
    fmt = "  ".join("%%-%ds" % w for w in widths[:2]) + "  " + "  ".join(
        "%%%ds" % w for w in widths[2:])
    lines.append(fmt % head)
    lines += [fmt % b for b in body]
    lines += notes
    return "\n".join(lines)


def write_csv(path, arch, table_rows, runs):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["arch", "figure", "unit", "higher_is_better", "karst_median", "karst_min",
                    "karst_max", "linux_median", "linux_min", "linux_max", "karst_over_linux",
                    "runs"])
        for fig, k, l, r in table_rows:
            w.writerow([arch, fig.name, fig.unit, int(fig.higher)] + list(k or ("", "", "")) +
                       list(l or ("", "", "")) + ["%.4f" % r if r else "", runs])


def write_samples(path, results):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["guest", "figure", "run", "value"])
        for guest in ("karst", "linux"):
            for name, vals in sorted(results[guest].items()):
                for i, v in enumerate(vals):
                    w.writerow([guest, name, i + 1, v])


def plot(png, title, table_rows):
    """A bar chart of the ratios (log scale, 1 marked); returns None or why not."""
    if not shutil.which("gnuplot"):
        return "gnuplot not installed (tools/setup-deps --compare)"
    data = [(f.name, r) for f, k, l, r in table_rows if r]
    if not data:
        return "no ratios to plot"
    dat = png[:-4] + ".dat"
    with open(dat, "w") as f:
        for i, (name, r) in enumerate(data):
            f.write("%d %s %.6f\n" % (i, name, r))
    script = """
set terminal pngcairo size %d,480 font ",10"
set output "%s"
set title "%s" noenhanced
set logscale y 10
set ylabel "karst / Linux (above 1: karst better)"
set style fill solid 0.8
set boxwidth 0.7
set xtics rotate by -35 left noenhanced
set grid ytics
set key off
set rmargin 10
set bmargin 8
set xrange [-0.6:%f]
set arrow from -0.6,1 to %f,1 nohead lw 2 lc rgb "black"
# Bars grow from 1 (up: karst better, green; down: Linux better, red).
plot "%s" using 1:3:($1-0.35):($1+0.35):(1):3:(($3 >= 1) ? 0x2e8b57 : 0xc0392b):xtic(2) \
       with boxxyerror lc rgb variable, \
     "" using 1:($3 >= 1 ? $3 * 1.25 : $3 / 1.25):(sprintf("%%.2f", $3)) with labels
""" % (max(640, 70 * len(data) + 200), png, title.replace('"', "'"), len(data) - 0.4,
       len(data) - 0.4, dat)
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if p.returncode != 0:
        return "gnuplot failed: " + p.stderr.strip()[-300:]
    return None
