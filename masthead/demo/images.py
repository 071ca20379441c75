"""Pictures for the demo, drawn here with Pillow so nothing is downloaded.

Each image is deterministic for its seed string: the same demo gives the same pictures.
"""

from __future__ import annotations

import hashlib
import io
import random

from PIL import Image, ImageDraw, ImageFilter

PALETTES = [
    ((27, 59, 111), (212, 140, 74)),
    ((17, 94, 89), (236, 201, 75)),
    ((94, 36, 64), (241, 143, 119)),
    ((40, 40, 48), (109, 173, 219)),
    ((70, 92, 37), (230, 218, 181)),
    ((120, 31, 25), (250, 214, 165)),
    ((33, 72, 92), (180, 214, 205)),
]


def _rng(seed: str) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))


def landscape(seed: str, width: int = 1600, height: int = 900) -> bytes:
    """An abstract photo-like scene: a sky gradient, a sun and layered hills."""
    rng = _rng(seed)
    dark, light = rng.choice(PALETTES)
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=tuple(int(light[i] * (1 - t) + dark[i] * t) for i in range(3)))
    r = rng.randint(width // 32, width // 13)
    sun_x, sun_y = rng.randint(r, width - r), rng.randint(r, max(r, height // 2))
    draw.ellipse([sun_x - r, sun_y - r, sun_x + r, sun_y + r], fill=(255, 244, 214))
    for layer in range(4):
        base = height * (0.45 + 0.13 * layer)
        shade = tuple(max(0, int(c * (0.9 - 0.18 * layer))) for c in dark)
        points = [(0, height)]
        for x in range(0, width + width // 20, width // 20):
            points.append((x, base + rng.uniform(-height / 15, height / 15)))
        points.append((width, height))
        draw.polygon(points, fill=shade)
    img = img.filter(ImageFilter.GaussianBlur(1.2))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=82, optimize=True, progressive=True)
    return out.getvalue()


def portrait(name: str, size: int = 400) -> bytes:
    """A head-and-shoulders silhouette with the person's initials, for author photos."""
    rng = _rng(name)
    dark, light = rng.choice(PALETTES)
    img = Image.new("RGB", (size, size), light)
    draw = ImageDraw.Draw(img)
    draw.ellipse([size * 0.3, size * 0.16, size * 0.7, size * 0.56], fill=dark)
    draw.ellipse([size * 0.12, size * 0.6, size * 0.88, size * 1.3], fill=dark)
    initials = "".join(part[0] for part in name.split()[:2]).upper()
    draw.text((size * 0.06, size * 0.04), initials, fill=dark, font_size=int(size * 0.14))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue()
