#!/usr/bin/env python3
"""Compares the plots of an imported recording with those of the native
capture of the same data: the same rows, every column bit for bit (the CSV
prints %.17g, which reads back exactly), except time_s, which may differ by
the rounding of float64 epoch seconds (about 0.24 us at 1.7e9 s) when the
recording gives times as a start instant plus sample offsets (SigMF
core:datetime) instead of a list of pulse times.

  compare_plots.py NATIVE/plots.csv IMPORTED/plots.csv [--time-tol S]

Exit 0 when they agree; prints what differs otherwise.
"""
import csv
import sys


def rows(path):
    with open(path, newline="") as f:
        r = list(csv.reader(f))
    return r[0], r[1:]


def main():
    a, b = sys.argv[1], sys.argv[2]
    tol = float(sys.argv[sys.argv.index("--time-tol") + 1]) if "--time-tol" in sys.argv else 0.0
    ha, ra = rows(a)
    hb, rb = rows(b)
    if ha != hb:
        print("header differs:", ha, hb)
        return 1
    if len(ra) != len(rb):
        print("%d plots vs %d" % (len(ra), len(rb)))
        return 1
    if not ra:
        print("no plots to compare: the test data must give plots")
        return 1
    it = ha.index("time_s")
    worst = 0.0
    for i, (x, y) in enumerate(zip(ra, rb)):
        for k, (u, v) in enumerate(zip(x, y)):
            if k == it:
                d = abs(float(u) - float(v))
                worst = max(worst, d)
                if d > tol:
                    print("row %d time_s: %s vs %s (|diff| %.3g > %.3g)" % (i, u, v, d, tol))
                    return 1
            elif u != v:
                print("row %d %s: %s vs %s" % (i, ha[k], u, v))
                return 1
    print("%d plots identical in every column%s" % (
        len(ra), "" if worst == 0 else "; time_s within %.3g s" % worst))
    return 0


if __name__ == "__main__":
    sys.exit(main())
