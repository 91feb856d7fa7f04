"""The SASS instructions where a kernel's warps stall most, from ncu's source page in CSV
(bench/profile_source.sh): the top rows by sampled stalls, with each one's leading stall reasons, and the
kernel's totals per reason.

    python3 bench/stall_sites.py ncu_src_matmul_mini_triton.csv [--top 30]
"""
import argparse
import csv
import io
import sys


def rows_of(path):
    text = open(path, encoding="utf-8", errors="replace").read()
    start = text.find('"#"')  # ncu prints its own lines before the table
    if start < 0:
        start = text.find('"Address"')
    if start < 0:
        sys.exit(f"{path}: no source table (ncu said: {text[:500]!r})")
    return list(csv.DictReader(io.StringIO(text[start:])))


def number(s):
    try:
        return float(str(s).replace(",", ""))
    except ValueError:
        return 0.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args(argv)
    rows = rows_of(args.csv)
    if not rows:
        sys.exit("empty table")
    cols = list(rows[0].keys())
    total = next((c for c in cols if c.startswith("Warp Stall Sampling (All")), None)
    reasons = [c for c in cols if c.startswith("stall_") or c.startswith("Stall ")]
    source = next((c for c in cols if c.lower() == "source"), cols[1])
    print(f"{len(rows)} instructions; columns: total={total!r}, {len(reasons)} stall reasons")
    if total is None:
        print("columns:", cols)
        return
    sums = {r: sum(number(row[r]) for row in rows) for r in reasons}
    grand = sum(number(row[total]) for row in rows) or 1.0
    print("kernel, by reason:", ", ".join(f"{r} {v / grand:.1%}" for r, v in
                                          sorted(sums.items(), key=lambda kv: -kv[1])[:8] if v))
    for row in sorted(rows, key=lambda r: -number(r[total]))[:args.top]:
        lead = sorted(((number(row[r]), r) for r in reasons), reverse=True)[:3]
        why = ", ".join(f"{r} {v:.0f}" for v, r in lead if v)
        print(f"{number(row[total]) / grand:6.1%}  {row.get('Address', row.get('#', ''))[-5:]:>5}  "
              f"{row[source].strip()[:60]:<60}  {why}")


if __name__ == "__main__":
    main()
