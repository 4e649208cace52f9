#!/usr/bin/env python3
"""Checks the layout of drift reports as Chromium draws them.

Usage: scripts/check-report-layout.py [--width 1200] REPORT.html...

Each report is copied with a script appended to its body, opened in Debian's headless Chromium
(`chromium --headless --no-sandbox --dump-dom`, one start per report) and measured after layout, in the browser:

- every <text> of every chart lies inside its <svg>'s box (nothing clipped at an edge);
- no chart text lies over a data mark (a curve, a bar, the KS line, a drawn threshold) or over another text;
- every number in a table cell or a figure (<td>, <dd>) renders on one line;
- the page is no wider than the window, and no table is empty;
- no row of a feature's charts is left part empty (a lone chart beside empty grid cells).

The findings are written into the page's DOM and read back from the dumped DOM. Prints one line per finding,
naming the report, the element and the overflow; exit status 0 when there is none, 1 when there are, 2 when a
report cannot be read or Chromium cannot be run.
"""
import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Runs synchronously at the end of <body>: the document is parsed and reading a box forces layout.
MEASURE = r"""
<script>
(() => {
  const findings = [];
  const tol = 0.5;
  const fmt = (x) => (Math.round(x * 10) / 10).toFixed(1);
  const label = (el) => {
    const t = (el.textContent || "").replace(/\s+/g, " ").trim();
    return t.length > 40 ? t.slice(0, 39) + "…" : t;
  };
  const where = (el) => {
    const parts = [];
    const section = el.closest("section, header");
    if (section) {
      if (section.dataset.feature) parts.push("feature " + section.dataset.feature);
      else parts.push(section.tagName.toLowerCase() + (section.id ? "#" + section.id : ""));
    }
    const svg = el.closest("svg");
    if (svg) parts.push("svg." + svg.getAttribute("class"));
    return parts.join(" › ");
  };
  const add = (el, element, problem) => findings.push({ where: where(el), element, problem });
  const intersects = (a, b, slack) =>
    a.left < b.right - slack && b.left < a.right - slack && a.top < b.bottom - slack && b.top < a.bottom - slack;
  const rotated = (el) => /rotate/.test(el.getAttribute("transform") || "");

  for (const svg of document.querySelectorAll("svg")) {
    const box = svg.getBoundingClientRect();
    const texts = [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim() !== "");
    // 1. inside the SVG's box
    for (const t of texts) {
      const r = t.getBoundingClientRect();
      const over = [
        ["left", box.left - r.left], ["right", r.right - box.right], ["top", box.top - r.top], ["bottom", r.bottom - box.bottom]
      ].filter(([, d]) => d > tol);
      for (const [side, d] of over) add(t, "text “" + label(t) + "”", "extends " + fmt(d) + " px past the " + side + " edge of its chart");
    }
    // 2. over a data mark: sample points inside the text's box, in the chart's user space
    const marks = [...svg.querySelectorAll("path, rect, line.ks, line.threshold")].filter(
      (m) => !m.closest("defs") && !m.closest(".legend"));
    const toUser = svg.getScreenCTM().inverse();
    for (const t of texts) {
      if (rotated(t)) continue;
      const r = t.getBoundingClientRect();
      const points = [];
      for (let i = 0; i <= 6; i++) {
        for (let j = 0; j <= 2; j++) {
          const p = new DOMPoint(r.left + 1 + (r.width - 2) * i / 6, r.top + 1 + (r.height - 2) * j / 2).matrixTransform(toUser);
          points.push(p);
        }
      }
      for (const m of marks) {
        const hit = points.some((p) => (m.tagName === "rect" ? m.isPointInFill(p) : m.isPointInStroke(p)));
        if (hit) {
          const what = m.tagName + (m.getAttribute("class") ? "." + m.getAttribute("class").split(" ")[0] : "");
          add(t, "text “" + label(t) + "”", "lies over the chart's " + what);
        }
      }
    }
    // 3. over another text (rotated labels: their boxes are not their glyphs, so not among themselves)
    for (let a = 0; a < texts.length; a++) {
      for (let b = a + 1; b < texts.length; b++) {
        if (rotated(texts[a]) && rotated(texts[b])) continue;
        if (intersects(texts[a].getBoundingClientRect(), texts[b].getBoundingClientRect(), 0.5)) {
          add(texts[a], "text “" + label(texts[a]) + "”", "overlaps text “" + label(texts[b]) + "”");
        }
      }
    }
  }

  // 4. numbers on one line
  const numeric = /^[\s\d.,:eE%+\-−–<>≥≤→\/()·]*\d[\s\d.,:eE%+\-−–<>≥≤→\/()·]*$/;
  for (const cell of document.querySelectorAll("td, dd")) {
    const text = cell.textContent.trim();
    if (!numeric.test(text)) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
    if (tops.size > 1) {
      let column = "";
      if (cell.tagName === "TD") {
        const th = cell.closest("table").querySelectorAll("thead th")[cell.cellIndex];
        const row = cell.parentElement.cells[0];
        column = " (row “" + label(row) + "”, column “" + (th ? label(th) : cell.cellIndex + 1) + "”)";
      } else {
        const dt = cell.previousElementSibling;
        column = dt ? " (“" + label(dt) + "”)" : "";
      }
      add(cell, cell.tagName.toLowerCase() + " “" + label(cell) + "”" + column, "wraps onto " + tops.size + " lines");
    }
  }

  // 5. the page fits the window; no empty table
  const page = document.documentElement;
  if (page.scrollWidth > window.innerWidth + 1) {
    const widest = [...document.body.querySelectorAll("*")].reduce(
      (w, el) => (el.getBoundingClientRect().right > (w ? w.getBoundingClientRect().right : 0) ? el : w), null);
    add(widest || document.body, "the page", "is " + (page.scrollWidth - window.innerWidth) + " px wider than the window (widest: " +
      (widest ? widest.tagName.toLowerCase() + " “" + label(widest) + "”" : "?") + ")");
  }
  for (const table of document.querySelectorAll("table")) {
    if (table.querySelectorAll("tbody tr").length === 0) add(table, "a table", "has no rows");
  }

  // 6. no row of charts left part empty
  for (const charts of document.querySelectorAll(".charts")) {
    const box = charts.getBoundingClientRect();
    const rows = new Map();
    for (const fig of charts.querySelectorAll(":scope > figure")) {
      const r = fig.getBoundingClientRect();
      const key = Math.round(r.top);
      rows.set(key, Math.max(rows.get(key) || 0, r.right));
    }
    const gap = parseFloat(getComputedStyle(charts).columnGap) || 0;
    for (const [top, right] of rows) {
      const empty = box.right - right;
      if (empty > gap + 2) add(charts, "a row of charts", "leaves " + fmt(empty) + " px of its " + fmt(box.width) + " px empty");
    }
  }

  const out = document.createElement("pre");
  out.id = "layout-findings";
  out.hidden = true;
  out.textContent = JSON.stringify(findings);
  document.body.appendChild(out);
})();
</script>
"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("check-report-layout: chromium is not installed; run scripts/install-deps.sh (it installs Debian's chromium)")


def measure(browser: str, report: str, width: int, scratch: str) -> list:
    try:
        with open(report, encoding="utf-8") as f:
            page = f.read()
    except OSError as e:
        print(f"check-report-layout: cannot read {report}: {e.strerror}", file=sys.stderr)
        sys.exit(2)
    if "</body>" not in page:
        print(f"check-report-layout: {report} has no </body>; is it a drift report?", file=sys.stderr)
        sys.exit(2)
    copy = os.path.join(scratch, "measured.html")
    with open(copy, "w", encoding="utf-8") as f:
        f.write(page.replace("</body>", MEASURE + "</body>", 1))
    # --no-sandbox: Chromium refuses to run as root without it (CI); the page is our own report plus our script
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
           f"--window-size={width},1350", f"--user-data-dir={os.path.join(scratch, 'profile')}", "--dump-dom", "file://" + copy]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        print(f"check-report-layout: chromium did not finish rendering {report} within 600 s", file=sys.stderr)
        sys.exit(2)
    m = re.search(r'<pre id="layout-findings"[^>]*>(.*?)</pre>', done.stdout, re.S)
    if not m:
        print(f"check-report-layout: chromium (exit {done.returncode}) returned no findings for {report}:\n{done.stderr[-2000:]}",
              file=sys.stderr)
        sys.exit(2)
    return json.loads(html.unescape(m.group(1)))


def main() -> int:
    parser = argparse.ArgumentParser(description="Check drift reports' layout in headless Chromium.")
    parser.add_argument("--width", type=int, default=1200, help="window width in CSS pixels (default 1200, the README screenshot's)")
    parser.add_argument("reports", nargs="+", metavar="REPORT.html")
    args = parser.parse_args()
    if not 320 <= args.width <= 4000:
        parser.error(f"--width must be between 320 and 4000 pixels (got {args.width})")
    browser = chromium()
    failed = 0
    for report in args.reports:
        with tempfile.TemporaryDirectory(prefix="report-layout-") as scratch:
            findings = measure(browser, report, args.width, scratch)
        for f in findings:
            print(f"{report}: {f['where']}: {f['element']} {f['problem']}")
        print(f"check-report-layout: {report}: {'layout ok' if not findings else str(len(findings)) + ' problems'} at {args.width} px")
        failed += len(findings) > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
