"""Image receipt pipeline: 512x2000 JPEG -> printer bytes.

Compares, in one run, posboxless (``render_image_bytes``), python-escpos 3.1 (``Dummy().image``)
and the floor (Pillow decode + greyscale + ``convert('1')`` only). Median and p90 over N runs.

    .venv/bin/python bench/bench_image_pipeline.py [--runs 30]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from posboxless.printer.escpos import render_image_bytes
from posboxless.printer.profiles import get_profile

WIDTH, HEIGHT = 512, 2000


def receipt_jpeg() -> bytes:
    """A receipt-like picture: logo, title, item lines, rules, totals, a QR-ish block."""
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    try:
        font = ImageFont.truetype("DejaVuSans.ttf", 18)
        big = ImageFont.truetype("DejaVuSans-Bold.ttf", 34)
    except OSError:
        font = big = ImageFont.load_default()
    draw.ellipse((196, 20, 316, 140), fill=(30, 60, 120))
    draw.text((226, 62), "LOGO", fill="white", font=font)
    draw.text((120, 160), "Boulangerie du Coin", fill="black", font=big)
    y = 220
    for i in range(60):
        draw.text((20, y), f"{i + 1:>2} x Croissant au beurre n°{i}", fill="black", font=font)
        draw.text((400, y), f"{(i + 1) * 1.35:8.2f} €", fill="black", font=font)
        y += 26
        if i % 10 == 9:
            draw.line((20, y + 4, 492, y + 4), fill=(90, 90, 90), width=2)
            y += 12
    draw.text((20, y + 20), "TOTAL", fill="black", font=big)
    draw.text((330, y + 20), "1 234,50 €", fill="black", font=big)
    for row in range(20):
        for col in range(20):
            if (row * 7 + col * 13) % 3 == 0:
                x0, y0 = 156 + col * 10, 1780 + row * 10
                draw.rectangle((x0, y0, x0 + 9, y0 + 9), fill="black")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def floor(jpeg: bytes) -> bytes:
    image = Image.open(io.BytesIO(jpeg))
    return image.convert("L").convert("1").tobytes()


def python_escpos(jpeg: bytes) -> bytes:
    from escpos.printer import Dummy

    printer = Dummy()
    with contextlib.redirect_stdout(io.StringIO()):  # it print()s per image
        printer.image(Image.open(io.BytesIO(jpeg)))
    return bytes(printer.output)


def measure(func: Callable[[bytes], bytes], jpeg: bytes, runs: int) -> dict[str, float]:
    func(jpeg)  # warm-up (imports, caches)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func(jpeg)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p90_ms": times[min(len(times) - 1, int(0.9 * len(times)))],
        "min_ms": times[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # python-escpos warns about its profile on every image
    jpeg = receipt_jpeg()
    same_width = get_profile("generic-80", {"width_dots": 512})
    scaled = get_profile("generic-80", {"scale_images": "fit"})  # 576 dots: smooth upscale
    candidates: dict[str, Callable[[bytes], bytes]] = {
        "floor (decode+convert('1'))": floor,
        "posboxless 512 (no scaling)": lambda j: render_image_bytes(j, same_width).data,
        "posboxless 576 (scaled)": lambda j: render_image_bytes(j, scaled).data,
        "python-escpos 3.1 Dummy.image": python_escpos,
    }
    results = {name: measure(func, jpeg, args.runs) for name, func in candidates.items()}
    sizes = {name: len(func(jpeg)) for name, func in candidates.items()}
    print(f"512x{HEIGHT} JPEG ({len(jpeg)} bytes), {args.runs} runs each, {os.cpu_count()} CPUs")
    print(f"{'pipeline':34} {'median ms':>10} {'p90 ms':>8} {'min ms':>8} {'output B':>9}")
    for name, r in results.items():
        print(
            f"{name:34} {r['median_ms']:10.1f} {r['p90_ms']:8.1f} {r['min_ms']:8.1f}"
            f" {sizes[name]:9d}"
        )
    reference = results["python-escpos 3.1 Dummy.image"]["median_ms"]
    floor_ms = results["floor (decode+convert('1'))"]["median_ms"]
    print()
    ratios = {}
    for name in ("posboxless 512 (no scaling)", "posboxless 576 (scaled)"):
        ours = results[name]["median_ms"]
        ratios[name] = {"speedup_vs_python_escpos": reference / ours, "vs_floor": ours / floor_ms}
        print(
            f"{name}: {reference / ours:.2f}x faster than python-escpos (median), "
            f"{ours / floor_ms:.2f}x the floor"
        )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "image_pipeline.json").write_text(
        json.dumps(
            {"runs": args.runs, "results": results, "ratios": ratios, "sizes": sizes}, indent=2
        )
    )


if __name__ == "__main__":
    main()
