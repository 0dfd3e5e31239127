#!/usr/bin/env python3
"""Synthetic licence-plate crop generator for the Gatehouse plate-OCR model.

Generates tight plate crops (US style mostly, plus EU and Brazilian Mercosur
layouts) with heavy photometric/geometric augmentation, resized to 128x64 RGB.

    python synth.py --count N --seed S --out DIR [--workers W]
    python synth.py --count 60 --seed 1 --sheet sheet.png

Every sample i is generated from its own RNG seeded with (seed, i), so a
dataset is reproducible and independent of the number of worker processes.

Output (DIR): images.npy (uint8 N x 64 x 128 x 3), labels.txt (one plate text
per line, A-Z0-9 only), meta.json.

Fonts come only from Debian font packages (see setup.sh); missing font files
are skipped, so the font list below is the union of what we try.
"""
import argparse
import glob
import json
import math
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFont  # noqa: E402

cv2.setNumThreads(1)

OUT_W, OUT_H = 128, 64
# Generator version. 1 is the generator the CTC reader was first trained with (kept so that its
# data set can be made again exactly); 2 adds what the real crops showed missing: a plain-bar "1",
# narrow glyphs, tall emblems between groups (lighthouse, fruit, portrait), side logos and more
# stacked side characters. 3 draws the plain-bar "1" more often (70 % of plates, not 40 %) and,
# on 70 % of US serial plates, leaves out the letters I, O and Q as most states' serials do, so
# that a plain bar among digits is a 1. 4 stacks two or three small characters at a side, never
# one (a lone "stacked" character came out 90 % as tall as the main ones, and unlabelled), and
# leaves a gap between them and the main characters.
# 5 lets the main characters run up to the plate's right edge on 30 % of US plates (and the
# left edge on 15 %), as on the real crops whose last character touches the crop's edge.
# 6 is 5 without the left edge: only the right edge, on 30 % of US plates.
# 7 is 6 plus, on 12 % of US plates, a mark as tall as the characters beside them (left 75 %):
# the wheelchair symbol of disability plates (Delaware, Minnesota), plain or white on a blue
# square, or one of the tall pictures drawn between groups (lighthouse, fruit, portrait, figure),
# for marks like Oklahoma's archer; the real crops read such marks as one more character.
# 8 is 7 plus three shapes of the real crops the fonts lack: an "I" with slab serifs on half the
# plates (the real crops read IRONY as TRONY), a narrow "W" drawn as two Vs with near-vertical
# strokes on half the plates (read as H, N or M), and stacked side characters drawn bolder, up
# to 40 % wider and closer to the main ones (Massachusetts' RT and NH's CH, read as one more "F").
# A feature draws from the RNG only when it is on. The default is 8, the newest version the
# shipped model was trained on; 5 and 6 were tried and not kept, and 7 was only ever trained on
# as part of 8 (models/plate_ocr.md, Training).
GENERATOR = 8
PW, PH = 320, 160  # plate canvas (US plates are 12"x6")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
ALNUM = DIGITS + LETTERS
SERIAL_LETTERS = "".join(c for c in LETTERS if c not in "IOQ")  # most US serials skip I, O, Q

# ---------------------------------------------------------------- fonts
# (glob pattern, weight). Main plate characters: tall, condensed sans.
PLATE_FONTS = [
    ("/usr/share/fonts/truetype/roadgeek/RG2014B.ttf", 3.0),  # Highway Gothic B (fonts-roadgeek)
    ("/usr/share/fonts/truetype/roadgeek/RG2014C.ttf", 3.0),
    ("/usr/share/fonts/truetype/roadgeek/RG2014D.ttf", 2.0),
    ("/usr/share/fonts/truetype/roadgeek/RG2014E.ttf", 1.0),
    ("/usr/share/fonts/truetype/roadgeek/RG2014EM.ttf", 1.0),
    ("/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf", 1.5),
    ("/usr/share/fonts/opentype/bebas-neue/BebasNeue-Regular.otf", 1.5),
    ("/usr/share/fonts/opentype/bebas-neue/BebasNeue-Book.otf", 0.7),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf", 2.0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf", 1.0),
    ("/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf", 2.0),
    ("/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Regular.ttf", 1.0),
    ("/usr/share/fonts/opentype/urw-base35/NimbusSansNarrow-Bold.otf", 1.5),
    ("/usr/share/fonts/opentype/urw-base35/NimbusSansNarrow-Regular.otf", 1.0),
    ("/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Bold.ttf", 1.5),
    ("/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Medium.ttf", 1.0),
    ("/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Regular.ttf", 1.0),
    ("/usr/share/fonts/truetype/opendin/OSP-DIN.ttf", 2.0),
    ("/usr/share/fonts/opentype/national-park/NationalPark-Regular.otf", 1.0),
    ("/usr/share/fonts/opentype/national-park/NationalPark-Heavy.otf", 1.0),
    ("/usr/share/fonts/truetype/routed-gothic/routed-gothic-narrow.ttf", 1.0),
    ("/usr/share/fonts/truetype/routed-gothic/routed-gothic.ttf", 0.5),
    ("/usr/share/fonts/opentype/yanone-kaffeesatz/YanoneKaffeesatz-Bold.otf", 0.7),
    ("/usr/share/fonts/opentype/yanone-kaffeesatz/YanoneKaffeesatz-Regular.otf", 0.5),
    ("/usr/share/fonts/opentype/dosis/Dosis-Bold.otf", 0.7),
    ("/usr/share/fonts/opentype/dosis/Dosis-SemiBold.otf", 0.7),
    ("/usr/share/fonts/truetype/beteckna/BetecknaGSCondensed-Bold.ttf", 0.5),
    ("/usr/share/fonts/truetype/clear-sans/ClearSans-Medium.ttf", 0.5),
    ("/usr/share/fonts/truetype/clear-sans/ClearSans-Bold.ttf", 0.5),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", 0.5),
    ("/usr/share/fonts/truetype/liberation2/LiberationSans-Bold.ttf", 0.5),
    ("/usr/share/fonts/truetype/liberation2/LiberationMono-Bold.ttf", 0.3),
    ("/usr/share/fonts/truetype/freefont/FreeSansBold.ttf", 0.5),
    ("/usr/share/fonts/opentype/b612/B612Mono-Bold.otf", 0.3),
    ("/usr/share/fonts/opentype/play/Play-Bold.otf", 0.4),
    ("/usr/share/fonts/truetype/crosextra/Carlito-Bold.ttf", 0.3),
    ("/usr/share/fonts/truetype/open-sans/OpenSans-Bold.ttf", 0.3),
    ("/usr/share/fonts/truetype/open-sans/OpenSans-CondBold.ttf", 0.8),
    ("/usr/share/fonts/truetype/noto/NotoSans-CondensedBold.ttf", 0.8),
    ("/usr/share/fonts/truetype/noto/NotoSans-CondensedMedium.ttf", 0.8),
    ("/usr/share/fonts/truetype/noto/NotoSansMono-CondensedBold.ttf", 0.6),
    ("/usr/share/fonts/fonts-go/Go-Mono-Bold.ttf", 0.3),
    ("/usr/share/fonts/fonts-go/Go-Medium.ttf", 0.3),
    ("/usr/share/fonts/opentype/league-spartan/LeagueSpartan-Bold.otf", 0.3),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSerifCondensed-Bold.ttf", 0.2),
    ("/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Bold.otf", 0.2),
]
# EU / Mercosur main text (DIN-like)
EU_FONTS = [
    ("/usr/share/fonts/truetype/opendin/OSP-DIN.ttf", 3.0),
    ("/usr/share/fonts/truetype/roadgeek/RG2014C.ttf", 1.0),
    ("/usr/share/fonts/truetype/roadgeek/RG2014D.ttf", 1.0),
    ("/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf", 1.0),
    ("/usr/share/fonts/truetype/roboto/unhinted/RobotoCondensed-Regular.ttf", 1.0),
    ("/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Regular.ttf", 1.0),
    ("/usr/share/fonts/opentype/urw-base35/NimbusSansNarrow-Regular.otf", 1.0),
]
# Decorative: state names, slogans, stickers.
DECOR_GLOBS = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif*.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold*.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-*.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-*.ttf",
    "/usr/share/fonts/truetype/freefont/FreeSerif*.ttf",
    "/usr/share/fonts/opentype/urw-base35/*.otf",
    "/usr/share/fonts/opentype/lobster/*.otf",
    "/usr/share/fonts/opentype/dancingscript/*.otf",
    "/usr/share/fonts/truetype/dancingscript/*.ttf",
    "/usr/share/fonts/opentype/linux-libertine/LinLibertine_R*.otf",
    "/usr/share/fonts/opentype/linux-libertine/LinBiolinum_R*.otf",
    "/usr/share/fonts/opentype/didot/*.otf",
    "/usr/share/fonts/opentype/cantarell/*.otf",
    "/usr/share/fonts/opentype/cabin/*.otf",
    "/usr/share/fonts/truetype/lato/Lato-Bol*.ttf",
    "/usr/share/fonts/truetype/lato/Lato-Heavy*.ttf",
    "/usr/share/fonts/truetype/karla/*.ttf",
    "/usr/share/fonts/opentype/roboto/slab/*.otf",
    "/usr/share/fonts/truetype/roboto/unhinted/Roboto-*.ttf",
    "/usr/share/fonts/opentype/bebas-neue/BebasNeue-Bold.otf",
    "/usr/share/fonts/truetype/open-sans/OpenSans-*.ttf",
    "/usr/share/fonts/truetype/crosextra/Carlito-*.ttf",
    "/usr/share/fonts/opentype/league-spartan/LeagueSpartan-Bold.otf",
    "/usr/share/fonts/truetype/croscore/*.ttf",
]

STATES = ["ALABAMA", "Alaska", "ARIZONA", "Arkansas", "California", "COLORADO", "Connecticut",
          "DELAWARE", "Florida", "GEORGIA", "HAWAII", "Idaho", "Illinois", "INDIANA", "Iowa",
          "KANSAS", "Kentucky", "Louisiana", "MAINE", "Maryland", "Massachusetts", "MICHIGAN",
          "Minnesota", "MISSISSIPPI", "Missouri", "MONTANA", "Nebraska", "NEVADA",
          "New Hampshire", "New Jersey", "NEW MEXICO", "NEW YORK", "North Carolina",
          "NORTH DAKOTA", "Ohio", "OKLAHOMA", "Oregon", "PENNSYLVANIA", "Rhode Island",
          "South Carolina", "SOUTH DAKOTA", "Tennessee", "TEXAS", "UTAH", "Vermont", "VIRGINIA",
          "WASHINGTON", "West Virginia", "WISCONSIN", "Wyoming", "WASHINGTON, DC", "myflorida.com",
          "Scenic IDAHO", "EXPLORE Minnesota", "First in Flight", "LIVE FREE OR DIE",
          "Stars Fell On", "THE FIRST STATE", "Discover the Spirit", "GEORGIA.gov"]
SLOGANS = ["Land of Enchantment", "visitPA.com", "WWW.STATE.PA.US", "Garden State", "Aloha State",
           "ALOHA STATE", "The Natural State", "Famous Potatoes", "FAMOUS POTATOES",
           "Sportsman's Paradise", "Louisiana Purchase", "America's Dairyland", "10,000 lakes",
           "Great Lakes Splendor", "Pure Michigan", "Ocean State", "Constitution State",
           "Green Mountain State", "Wild, Wonderful", "THE SILVER STATE", "In God We Trust",
           "IN GOD WE TRUST", "Vacationland", "The Spirit of America", "Land of Lincoln",
           "TRAVEL2SC.COM", "The Lone Star State", "EVERGREEN STATE", "THE EMPIRE STATE",
           "Sunshine State", "NORTH CAROLINA", "PEACE GARDEN STATE", "LIFE ELEVATED",
           "Treasure the Chesapeake", "Keep Kansas Beautiful", "CELEBRATING STATEHOOD",
           "Great Faces. Great Places.", "DELAWARE", "COLORADO", "INDIANA", "JACKSON",
           "HANCOCK", "WARREN", "DOUGLAS", "CLAYTON", "POLK", "SIOUX", "LINN", "Mississippi College",
           "Native America", "TAXATION WITHOUT REPRESENTATION", "Celebrate Diversity",
           "www.maryland.gov", "Centennial", "Cape Cod & Islands", "Support Our Troops",
           "Protect Wildlife", "Critical Habitat", "Choose Life", "Big Sky Country",
           "Grand Canyon State", "Bluegrass State", "Heart of It All", "Volunteer State",
           "SAVE OUR LIGHTS", "Conquer Cancer", "UNIVERSITY", "DEALER", "Wildlife Conservationist"]
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
EU_CODES = ["D", "F", "NL", "B", "I", "E", "P", "PL", "CZ", "A", "L", "SK", "SLO", "H", "RO",
            "LT", "LV", "EST", "FIN", "S", "IRL", "GR", "HR", "BG", "DK", "CY", "M", "GB", "UA"]
VANITY = ["SMILE", "UBUNTU", "BIGCHEESE", "SAMPLE", "KAPORO", "BUYME", "TURBO", "ANYTEXT",
          "HAPPY", "GOTAG", "MYRIDE", "FAST", "ROCKET", "JEEP", "LUCKY", "BEACH", "SURFER",
          "DOCTOR", "NURSE", "TEACH", "MOM", "DAD", "PAPA", "NANA", "GRAMMY", "HONDA", "TESLA",
          "ZOOM", "EAGLE", "TIGER", "BEAR", "WOLF", "HAWK", "GOLF", "TENNIS", "SKI", "SNOW",
          "SUNNY", "RAIN", "CHICAGO", "BOSTON", "TEXAS", "GATOR", "BAMA", "GOHAWKS", "PACKERS",
          "YANKEES", "REDSOX", "CUBS", "LOVE", "PEACE", "JOY", "FAITH", "HOPE", "BLESSED",
          "NOWAY", "OKAY", "RETIRED", "FREE", "TOYS", "JUSTME", "WINNER", "LEGEND", "MAGIC",
          "MUSIC", "GUITAR", "DRUMS", "COFFEE", "PIZZA", "TACO", "WINE", "BEER", "CHEESE",
          "GARDEN", "FARMER", "RANCH", "COWBOY", "HORSE", "KITTY", "DOGGY", "PUPPY", "BUNNY"]


def _existing(lst):
    out = [(p, w) for p, w in lst if os.path.exists(p)]
    return out


def _decor_fonts():
    out = []
    for g in DECOR_GLOBS:
        out.extend(sorted(glob.glob(g)))
    bad = ("Mono", "Symbol", "Dingbat", "D050000L", "StandardSymbols")
    return [p for p in out if not any(b in p for b in bad)]


# ---------------------------------------------------------------- glyph cache
class GlyphFont:
    """Per-font cache of character masks cropped to a common cap-height band."""

    SIZE = 96

    def __init__(self, path):
        self.path = path
        self.font = ImageFont.truetype(path, self.SIZE)
        self.cache = {}
        top, bot = 10 ** 6, -(10 ** 6)
        for ch in "HEXZ0123456789":
            bb = self.font.getbbox(ch)
            top, bot = min(top, bb[1]), max(bot, bb[3])
        self.top, self.bot = top, bot

    def glyph(self, ch):
        g = self.cache.get(ch)
        if g is None:
            bb = self.font.getbbox(ch)
            w = max(1, bb[2] - bb[0])
            h = self.bot - self.top
            im = Image.new("L", (w + 4, h + 4), 0)
            ImageDraw.Draw(im).text((2 - bb[0], 2 - self.top), ch, font=self.font, fill=255)
            a = np.asarray(im)
            cols = np.where(a.max(0) > 20)[0]
            if len(cols):
                a = a[:, cols[0]:cols[-1] + 1]
            g = a
            self.cache[ch] = g
        return g

    def valid(self):
        # reject fonts that lack glyphs (tofu boxes look identical) or lower-case-only
        ms = [self.glyph(c) for c in "ABQ0189"]
        if len({m.tobytes() for m in ms}) < len(ms):
            return False
        return True


_STATE = {}


def _init_fonts():
    if _STATE:
        return _STATE
    pf = [(GlyphFont(p), w) for p, w in _existing(PLATE_FONTS)]
    pf = [(g, w) for g, w in pf if g.valid()]
    ef = [(GlyphFont(p), w) for p, w in _existing(EU_FONTS)]
    _STATE["plate"] = [g for g, _ in pf]
    _STATE["plate_w"] = np.array([w for _, w in pf]) / sum(w for _, w in pf)
    _STATE["eu"] = [g for g, _ in ef]
    _STATE["eu_w"] = np.array([w for _, w in ef]) / sum(w for _, w in ef)
    _STATE["decor"] = _decor_fonts()
    _STATE["decor_cache"] = {}
    if not _STATE["plate"] or not _STATE["decor"]:
        sys.exit("no fonts found: run setup.sh (apt fonts) first")
    return _STATE


def decor_font(rng, size):
    st = _STATE
    path = st["decor"][rng.integers(len(st["decor"]))]
    size = int(max(6, size)) // 2 * 2
    key = (path, size)
    f = st["decor_cache"].get(key)
    if f is None:
        f = ImageFont.truetype(path, size)
        st["decor_cache"][key] = f
    return f


# ---------------------------------------------------------------- colours
def rand_color(rng, lo=0, hi=255):
    return tuple(int(v) for v in rng.integers(lo, hi + 1, 3))


def jitter(c, rng, amt=25):
    return tuple(int(np.clip(v + rng.integers(-amt, amt + 1), 0, 255)) for v in c)


LIGHT_BG = [(245, 245, 245), (235, 238, 240), (250, 248, 235), (240, 240, 225), (225, 235, 245),
            (210, 230, 245), (250, 240, 200), (255, 250, 230), (230, 230, 230), (245, 235, 235),
            (220, 240, 225), (250, 230, 210)]
DARK_BG = [(20, 40, 110), (15, 25, 70), (20, 20, 20), (40, 40, 45), (0, 90, 50), (120, 20, 30),
           (30, 60, 140), (60, 30, 90)]
MID_BG = [(255, 200, 40), (240, 180, 30), (250, 220, 100), (120, 190, 230), (150, 210, 160),
          (250, 160, 90), (200, 200, 200), (60, 140, 90), (30, 120, 70)]
DARK_TEXT = [(10, 20, 90), (20, 30, 120), (15, 15, 15), (40, 40, 40), (150, 20, 30), (120, 15, 40),
             (0, 80, 40), (10, 90, 70), (60, 20, 90), (0, 50, 120), (180, 30, 40), (90, 30, 20),
             (20, 60, 160)]
LIGHT_TEXT = [(250, 250, 250), (240, 200, 60), (255, 215, 0), (230, 230, 230), (250, 180, 40)]


# ---------------------------------------------------------------- text patterns
def rand_text(rng, style):
    """Return (label, groups) where groups are display chunks joined by a separator."""
    L = lambda n: "".join(LETTERS[i] for i in rng.integers(0, 26, n))  # noqa: E731
    D = lambda n: "".join(DIGITS[i] for i in rng.integers(0, 10, n))  # noqa: E731
    if style == "br":
        return [L(3), D(1) + L(1) + D(2)] if rng.random() < 0.85 else [L(3), D(4)]
    if style == "eu":
        k = rng.integers(6)
        if k == 0:
            return [L(rng.integers(1, 4)), L(rng.integers(1, 3)), D(rng.integers(1, 5))]
        if k == 1:
            return [L(2), D(3), L(2)]
        if k == 2:
            return [D(2), L(3), D(rng.integers(1, 3))]
        if k == 3:
            return [L(2), D(rng.integers(3, 6))]
        if k == 4:
            return [D(4), L(3)]
        return [L(3), D(rng.integers(2, 5))]
    r = rng.random()
    pats = ["LLL-DDDD", "LLL-DDD", "DDD-LLL", "D-LLL-DDD", "DLLL-DDD", "DDD-DDD", "DDD-DDDD",
            "LL-DDDDD", "DD-LDDD", "DDDD-LL", "DDD-LDD", "LDD-DLL", "LLL-DDL", "DDL-DDD",
            "DDDDDD", "DLL-DDDD", "LD-DDDD", "DL-DDDD", "LL-DDDD", "DDLL-DDD", "DDDLLL",
            "LLLDDDD", "DLLLDDD", "DDDDLL", "DD-DDDD", "LLL-LDD", "DL-LLLL", "DDD-DDDL", "DDDD-LLL",
            "LL-DDD-L", "D-DDDDD", "LDDDDD", "DDDDDDD", "LLL-DDDDD", "DD-DDDDD"]
    if r < 0.72:
        p = pats[rng.integers(len(pats))]
        letters = SERIAL_LETTERS if GENERATOR >= 3 and rng.random() < 0.7 else LETTERS
        groups = []
        for chunk in p.split("-"):
            groups.append("".join(letters[rng.integers(len(letters))] if c == "L" else DIGITS[rng.integers(10)]
                                  for c in chunk))
        return groups
    if r < 0.82:  # vanity words
        w = VANITY[rng.integers(len(VANITY))]
        if rng.random() < 0.4:
            w = w[:rng.integers(2, len(w) + 1)] + (D(rng.integers(1, 3)) if rng.random() < 0.5 else "")
        w = w[:8]
        if len(w) > 4 and rng.random() < 0.3:
            k = rng.integers(2, len(w) - 1)
            return [w[:k], w[k:]]
        return [w]
    # random strings, length 1..10 (mostly 2..8)
    n = int(np.clip(round(rng.normal(5.5, 2.0)), 1, 10))
    s = "".join(ALNUM[i] for i in rng.integers(0, 36, n))
    if n >= 4 and rng.random() < 0.5:
        k = rng.integers(1, n)
        return [s[:k], s[k:]]
    return [s]


# ---------------------------------------------------------------- drawing helpers
def vgrad(h, w, cols, stops):
    y = np.linspace(0, 1, h)[:, None]
    out = np.zeros((h, w, 3), np.float32)
    cols = np.array(cols, np.float32)
    for c in range(3):
        out[..., c] = np.interp(y, stops, cols[:, c])
    return out


def draw_mountains(img, rng, color, base, amp):
    h, w = img.shape[:2]
    n = rng.integers(4, 12)
    xs = np.linspace(-10, w + 10, n)
    ys = base - rng.random(n) * amp
    pts = [(int(x), int(y)) for x, y in zip(xs, ys)] + [(w + 10, h + 10), (-10, h + 10)]
    cv2.fillPoly(img, [np.array(pts, np.int32)], color, lineType=cv2.LINE_AA)


def draw_tree(img, rng, cx, top, height, color):
    width = height * rng.uniform(0.3, 0.6)
    tiers = rng.integers(3, 6)
    for t in range(tiers):
        y0 = top + t * height / (tiers + 1)
        y1 = y0 + height / (tiers - 0.5)
        ww = width * (0.4 + 0.6 * (t + 1) / tiers)
        pts = np.array([(cx, y0), (cx - ww / 2, y1), (cx + ww / 2, y1)], np.int32)
        cv2.fillPoly(img, [pts], color, lineType=cv2.LINE_AA)
    cv2.rectangle(img, (int(cx - width * 0.06), int(top + height * 0.85)),
                  (int(cx + width * 0.06), int(top + height)), (90, 60, 30), -1)


def draw_star(img, cx, cy, r, color):
    pts = []
    for k in range(10):
        a = -math.pi / 2 + k * math.pi / 5
        rr = r if k % 2 == 0 else r * 0.45
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    cv2.fillPoly(img, [np.array(pts, np.int32)], color, lineType=cv2.LINE_AA)


def draw_emblem(img, rng, cx, cy, size):
    """Random logo-ish shape (state outline, star, sun, circle seal, tree, heart...)."""
    k = rng.integers(8)
    col = DARK_TEXT[rng.integers(len(DARK_TEXT))] if rng.random() < 0.6 else rand_color(rng)
    s = size
    if k == 0:
        draw_star(img, cx, cy, s * 0.5, col)
    elif k == 1:
        cv2.circle(img, (int(cx), int(cy)), int(s * 0.45), col, -1, cv2.LINE_AA)
        cv2.circle(img, (int(cx), int(cy)), int(s * 0.3), rand_color(rng), -1, cv2.LINE_AA)
    elif k == 2:  # sun with rays
        cv2.circle(img, (int(cx), int(cy)), int(s * 0.25), col, -1, cv2.LINE_AA)
        for a in np.linspace(0, 2 * math.pi, 12, endpoint=False):
            cv2.line(img, (int(cx + s * 0.3 * math.cos(a)), int(cy + s * 0.3 * math.sin(a))),
                     (int(cx + s * 0.5 * math.cos(a)), int(cy + s * 0.5 * math.sin(a))), col, 2,
                     cv2.LINE_AA)
    elif k == 3:
        draw_tree(img, rng, cx, cy - s * 0.6, s * 1.2, (30, 100, 50) if rng.random() < 0.6 else col)
    elif k == 4:  # state outline: random polygon
        n = rng.integers(5, 10)
        ang = np.sort(rng.random(n)) * 2 * math.pi
        rr = s * rng.uniform(0.25, 0.55, n)
        pts = np.stack([cx + rr * np.cos(ang), cy + rr * np.sin(ang) * 1.2], 1).astype(np.int32)
        cv2.fillPoly(img, [pts], col, lineType=cv2.LINE_AA)
    elif k == 5:  # shield / seal with stripes
        x0, y0 = int(cx - s * 0.3), int(cy - s * 0.4)
        x1, y1 = int(cx + s * 0.3), int(cy + s * 0.4)
        cv2.rectangle(img, (x0, y0), (x1, y1), col, -1)
        c2 = rand_color(rng)
        for yy in range(y0, y1, 4):
            cv2.line(img, (x0, yy), (x1, yy), c2, 1)
    elif k == 6:  # heart / blob
        cv2.ellipse(img, (int(cx), int(cy)), (int(s * 0.35), int(s * 0.25)), rng.uniform(0, 180), 0,
                    360, col, -1, cv2.LINE_AA)
    else:  # double-line "=" style (DC)
        for dy in (-s * 0.15, s * 0.15):
            cv2.rectangle(img, (int(cx - s * 0.3), int(cy + dy - s * 0.06)),
                          (int(cx + s * 0.3), int(cy + dy + s * 0.06)), col, -1)
        draw_star(img, cx, cy - s * 0.4, s * 0.12, col)


def draw_tall_emblem(img, rng, cx, top, th, gap):
    """A picture as tall as the characters between two groups, which is not a character: a
    lighthouse (Mississippi), a fruit with leaves (Florida, Georgia), a portrait or a bird."""
    k = rng.integers(4)
    col = DARK_TEXT[rng.integers(len(DARK_TEXT))] if rng.random() < 0.5 else rand_color(rng)
    h = th * rng.uniform(0.9, 1.25)
    y0 = top + th - h + rng.uniform(-0.08, 0.08) * th
    if k == 0:  # lighthouse: a tapering striped tower, a lamp room and a cap
        wb, wt = max(3.0, gap * rng.uniform(0.35, 0.6)), max(2.0, gap * rng.uniform(0.2, 0.35))
        y_lamp = y0 + h * 0.18
        tower = np.array([(cx - wb / 2, y0 + h), (cx + wb / 2, y0 + h), (cx + wt / 2, y_lamp),
                          (cx - wt / 2, y_lamp)], np.int32)
        body = (245, 245, 240) if rng.random() < 0.6 else col
        cv2.fillPoly(img, [tower], body, lineType=cv2.LINE_AA)
        stripe = rand_color(rng, 0, 200)
        for f in np.linspace(0.3, 0.85, rng.integers(0, 4)):
            y = y0 + h * f
            cv2.line(img, (int(cx - wb / 2), int(y)), (int(cx + wb / 2), int(y)), stripe,
                     max(1, int(h * 0.05)))
        cv2.polylines(img, [tower], True, col, 1, cv2.LINE_AA)
        cv2.rectangle(img, (int(cx - wt * 0.7), int(y0 + h * 0.07)), (int(cx + wt * 0.7), int(y_lamp)), col, -1)
        cap = np.array([(cx - wt * 0.8, y0 + h * 0.07), (cx + wt * 0.8, y0 + h * 0.07), (cx, y0)], np.int32)
        cv2.fillPoly(img, [cap], col, lineType=cv2.LINE_AA)
    elif k == 1:  # fruit: an orange or a peach with leaves and a blossom, wider than the gap
        r = th * rng.uniform(0.2, 0.34)
        fy = y0 + h * rng.uniform(0.45, 0.65)
        fruit = [(240, 130, 20), (250, 150, 40), (230, 90, 60), (200, 40, 40)][rng.integers(4)]
        cv2.circle(img, (int(cx), int(fy)), int(r), fruit, -1, cv2.LINE_AA)
        cv2.circle(img, (int(cx - r * 0.3), int(fy - r * 0.3)), max(1, int(r * 0.25)),
                   jitter(fruit, rng, 40), -1, cv2.LINE_AA)
        leaf = (40, 120, 50)
        for a in rng.uniform(-2.6, -0.5, rng.integers(1, 4)):
            lx, ly = cx + r * 1.1 * math.cos(a), fy + r * 1.1 * math.sin(a)
            cv2.ellipse(img, (int(lx), int(ly)), (max(2, int(r * 0.55)), max(1, int(r * 0.22))),
                        math.degrees(a), 0, 360, leaf, -1, cv2.LINE_AA)
        if rng.random() < 0.5:
            draw_star(img, cx + r * 0.4, fy - r * 0.9, r * 0.35, (250, 250, 250))
    elif k == 2:  # portrait: a head on shoulders
        r = min(gap * 0.45, th * 0.22)
        hy = y0 + h * 0.35
        cv2.ellipse(img, (int(cx), int(y0 + h)), (max(2, int(r * 1.8)), max(2, int(h * 0.35))), 0, 180, 360,
                    col, -1, cv2.LINE_AA)
        cv2.circle(img, (int(cx), int(hy)), max(2, int(r)), col, -1, cv2.LINE_AA)
    else:  # a standing bird or a figure: a thin body and a head
        cv2.line(img, (int(cx), int(y0 + h * 0.25)), (int(cx), int(y0 + h)), col, max(2, int(th * 0.06)),
                 cv2.LINE_AA)
        cv2.ellipse(img, (int(cx), int(y0 + h * 0.55)), (max(2, int(gap * 0.3)), max(3, int(h * 0.22))), 0, 0,
                    360, col, -1, cv2.LINE_AA)
        cv2.circle(img, (int(cx), int(y0 + h * 0.18)), max(2, int(th * 0.08)), col, -1, cv2.LINE_AA)


def draw_access_symbol(img, rng, x0, top, h, color):
    """The wheelchair symbol of disability plates in an h-tall box from (x0, top); returns its
    width. Plain in `color`, or (half the time) white on a filled blue square."""
    w = h * rng.uniform(0.75, 0.95)
    if rng.random() < 0.5:
        cv2.rectangle(img, (int(x0), int(top)), (int(x0 + w), int(top + h)), jitter((25, 70, 160), rng, 25), -1)
        color = (245, 245, 245)
        x0, top, w, h = x0 + w * 0.1, top + h * 0.08, w * 0.8, h * 0.84
    t = max(2, int(h * rng.uniform(0.07, 0.1)))
    p = lambda fx, fy: (int(x0 + fx * w), int(top + fy * h))
    cv2.circle(img, p(0.42, 0.1), max(2, int(h * 0.09)), color, -1, cv2.LINE_AA)          # head
    cv2.line(img, p(0.4, 0.24), p(0.42, 0.56), color, t, cv2.LINE_AA)                    # back
    cv2.line(img, p(0.41, 0.36), p(0.64, 0.36), color, t, cv2.LINE_AA)                   # arm
    cv2.line(img, p(0.42, 0.56), p(0.7, 0.56), color, t, cv2.LINE_AA)                    # thigh
    cv2.line(img, p(0.7, 0.56), p(0.84, 0.88), color, t, cv2.LINE_AA)                    # shin
    r = int(h * 0.27)
    cv2.ellipse(img, p(0.36, 0.67), (r, r), 0, rng.uniform(-40, -20), rng.uniform(190, 220), color, t,
                cv2.LINE_AA)                                                              # wheel
    return w


def put_text(img, rng, text, cx, cy, height, color, max_w=None, font=None, anchor="mm",
             stroke=0, stroke_fill=None):
    """Draw decorative text on a numpy image via PIL (returns new array)."""
    font = font or decor_font(rng, height)
    pil = Image.fromarray(img)
    d = ImageDraw.Draw(pil)
    bb = d.textbbox((0, 0), text, font=font)
    tw = bb[2] - bb[0]
    if max_w and tw > max_w:
        # render to a separate layer and squeeze
        th = bb[3] - bb[1]
        lay = Image.new("L", (tw + 4, th + 4), 0)
        ImageDraw.Draw(lay).text((2 - bb[0], 2 - bb[1]), text, font=font, fill=255)
        lay = lay.resize((int(max_w), th + 4), Image.BILINEAR)
        col = Image.new("RGB", lay.size, color)
        pil.paste(col, (int(cx - lay.size[0] / 2), int(cy - lay.size[1] / 2)), lay)
    else:
        d.text((cx, cy), text, font=font, fill=color, anchor=anchor, stroke_width=stroke,
               stroke_fill=stroke_fill)
    return np.asarray(pil).copy()


# ---------------------------------------------------------------- main characters
def plain_bar(gf):
    """A "1" drawn as a plain upright bar (many US plate dies), as thick as the font's own stem."""
    g = gf.glyph("I")
    h = g.shape[0]
    stem = g[h // 2] > 127
    width = int(stem.sum()) if stem.any() else max(2, h // 8)
    width = int(np.clip(width, max(2, h // 14), h // 5))
    bar = np.zeros((h, width), np.uint8)
    rows = np.where(g.max(1) > 127)[0]
    top, bot = (rows[0], rows[-1] + 1) if len(rows) else (2, h - 2)
    bar[top:bot] = 255
    return bar


def stem_band(gf):
    """The plain bar's mask height, stem width and the rows its ink spans: (h, stem, top, bot)."""
    bar = plain_bar(gf)
    h, stem = bar.shape
    rows = np.where(bar.max(1) > 0)[0]
    return h, stem, int(rows[0]), int(rows[-1] + 1)


def serif_i(gf, rng):
    """An "I" with slab serifs at top and bottom, its stem as thick as the font's own (version 8)."""
    h, stem, top, bot = stem_band(gf)
    w = max(stem + 4, int(stem * rng.uniform(2.4, 3.6)))
    slab = max(2, int(stem * rng.uniform(0.5, 0.8)))
    g = np.zeros((h, w), np.uint8)
    g[top:bot, (w - stem) // 2:(w - stem) // 2 + stem] = 255
    g[top:top + slab] = 255
    g[bot - slab:bot] = 255
    return g


def narrow_w(gf, rng, width):
    """A narrow "W", two Vs with near-vertical strokes as on many US plates, `width` times the
    cap height wide and as thick as the font's stem (version 8)."""
    h, stem, top, bot = stem_band(gf)
    w = max(3 * stem, int((bot - top) * width))
    apex = top + (bot - top) * rng.uniform(0.0, 0.3)
    pts = np.array([[stem / 2, top - stem], [w * 0.27, bot + stem / 2], [w / 2, apex],
                    [w * 0.73, bot + stem / 2], [w - stem / 2, top - stem]], np.float32)
    g = np.zeros((h, w), np.uint8)
    cv2.polylines(g, [np.round(pts * 4).astype(np.int32)], False, 255, stem, cv2.LINE_AA, shift=2)
    g[:top] = 0
    g[bot:] = 0
    return g


def text_mask(gf, groups, rng, sep_kind, char_gap, group_gap):
    """Compose glyph masks into one mask; returns (mask, list of separator x-centres)."""
    parts = []
    seps = []
    x = 0
    h = gf.bot - gf.top + 4
    bar_one = narrow = False
    if GENERATOR >= 2:
        bar_one = rng.random() < (0.7 if GENERATOR >= 3 else 0.4)
        narrow = rng.uniform(0.62, 0.85) if rng.random() < 0.3 else False
    slab_i = plate_w = False
    if GENERATOR >= 8:
        slab_i = rng.random() < 0.5
        plate_w = rng.uniform(0.55, 0.85) if rng.random() < 0.5 else False
    for gi, grp in enumerate(groups):
        if gi > 0:
            seps.append(x + group_gap / 2)
            parts.append(np.zeros((h, int(group_gap)), np.uint8))
            x += int(group_gap)
        for ci, ch in enumerate(grp):
            if bar_one and ch == "1":
                g = plain_bar(gf)
            elif slab_i and ch == "I":
                g = serif_i(gf, rng)
            elif plate_w and ch == "W":
                g = narrow_w(gf, rng, plate_w)
            else:
                g = gf.glyph(ch)
            if narrow and g.shape[1] > g.shape[0] // 4:
                g = cv2.resize(g, (max(1, int(g.shape[1] * narrow)), g.shape[0]), interpolation=cv2.INTER_AREA)
            if ci > 0:
                gap = max(0, int(char_gap * rng.uniform(0.8, 1.2)))
                parts.append(np.zeros((h, gap), np.uint8))
                x += gap
            parts.append(g)
            x += g.shape[1]
    m = np.concatenate(parts, 1)
    return m, seps


def render_main(img, rng, groups, fonts, fweights, box, color, style):
    """Render main plate characters into box=(x0,y0,x1,y1) with separators."""
    gf = fonts[rng.choice(len(fonts), p=fweights)]
    cap = gf.bot - gf.top
    char_gap = cap * rng.uniform(0.03, 0.18)
    sep_kind = "none"
    if len(groups) > 1:
        sep_kind = rng.choice(["space", "dash", "dot", "emblem", "tight"], p=[0.32, 0.18, 0.12, 0.28, 0.10])
    group_gap = {"space": cap * rng.uniform(0.25, 0.7), "dash": cap * rng.uniform(0.35, 0.6),
                 "dot": cap * rng.uniform(0.25, 0.45), "emblem": cap * rng.uniform(0.45, 0.85),
                 "tight": char_gap, "none": 0}[sep_kind]
    m, seps = text_mask(gf, groups, rng, sep_kind, char_gap, group_gap)
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    # target width: from natural aspect with a squeeze factor, bounded by the box
    nat_w = m.shape[1] * bh / m.shape[0]
    tw = nat_w * rng.uniform(0.7, 1.15)
    nchar = sum(len(g) for g in groups)
    if nchar >= 5 or rng.random() < 0.5:
        tw = max(tw, bw * rng.uniform(0.75, 0.98)) if nchar >= 5 else tw
    tw = min(tw, bw)
    th = bh
    sx = tw / m.shape[1]
    mm = cv2.resize(m, (max(1, int(tw)), max(1, int(th))), interpolation=cv2.INTER_AREA)
    ox = int(x0 + (bw - tw) * (0.5 + rng.uniform(-0.25, 0.25) * (bw - tw > 4)))
    oy = int(y0)
    H, W = img.shape[:2]
    # separators drawn first (same colour as text or emblem)
    for sx_ in seps:
        cx = ox + sx_ * sx
        cy = oy + th * 0.5
        if sep_kind == "dash":
            ww, hh = group_gap * sx * 0.6, th * rng.uniform(0.07, 0.12)
            cv2.rectangle(img, (int(cx - ww / 2), int(cy - hh / 2)), (int(cx + ww / 2), int(cy + hh / 2)),
                          color, -1)
        elif sep_kind == "dot":
            r = th * rng.uniform(0.05, 0.09)
            cv2.circle(img, (int(cx), int(cy)), max(2, int(r)), color, -1, cv2.LINE_AA)
        elif sep_kind == "emblem":
            if GENERATOR >= 2 and rng.random() < 0.5:
                draw_tall_emblem(img, rng, cx, oy, th, group_gap * sx)
            else:
                draw_emblem(img, rng, cx, cy + rng.uniform(-0.1, 0.1) * th, min(group_gap * sx * 1.3, th * 0.9))
    # embossed shading: offset shadow/highlight
    mf = np.zeros((H, W), np.float32)
    ph, pw = mm.shape
    xa, ya = max(0, ox), max(0, oy)
    xb, yb = min(W, ox + pw), min(H, oy + ph)
    if xb <= xa or yb <= ya:
        return img, (ox, oy, ox + pw, oy + ph)
    mf[ya:yb, xa:xb] = mm[ya - oy:yb - oy, xa - ox:xb - ox] / 255.0
    out = img.astype(np.float32)
    r = rng.random()
    if r < 0.35:  # emboss shadow
        dx, dy = rng.integers(-3, 4), rng.integers(1, 4)
        sh = np.roll(np.roll(mf, dy, 0), dx, 1)
        k = rng.uniform(0.2, 0.6)
        out *= (1 - k * sh[..., None] * (1 - mf[..., None]))
    elif r < 0.5:  # outline in another colour
        k = max(3, int(th * rng.uniform(0.03, 0.08)) | 1)
        dil = cv2.dilate(mf, np.ones((k, k), np.uint8))
        oc = np.array(rand_color(rng) if rng.random() < 0.5 else (255, 255, 255), np.float32)
        a = np.clip(dil - mf, 0, 1)[..., None]
        out = out * (1 - a) + oc * a
    col = np.array(color, np.float32)
    # slight vertical shading of the glyph colour (embossed paint)
    if rng.random() < 0.4:
        g = np.linspace(rng.uniform(0.7, 1.0), rng.uniform(1.0, 1.3), H)[:, None, None]
        colimg = np.clip(col[None, None, :] * g, 0, 255)
    else:
        colimg = col[None, None, :]
    a = mf[..., None]
    out = out * (1 - a) + colimg * a
    return np.clip(out, 0, 255).astype(np.uint8), (ox, oy, ox + pw, oy + ph)


# ---------------------------------------------------------------- plate layouts
def background_us(rng):
    H, W = PH, PW
    kind = rng.choice(["solid", "grad", "scenic", "dark", "band"], p=[0.22, 0.22, 0.38, 0.1, 0.08])
    dark = False
    if kind == "solid":
        c = LIGHT_BG[rng.integers(len(LIGHT_BG))] if rng.random() < 0.8 else MID_BG[rng.integers(len(MID_BG))]
        img = np.ones((H, W, 3), np.float32) * np.array(jitter(c, rng, 12), np.float32)
        dark = sum(c) < 300
    elif kind == "dark":
        c = DARK_BG[rng.integers(len(DARK_BG))]
        img = np.ones((H, W, 3), np.float32) * np.array(jitter(c, rng, 15), np.float32)
        dark = True
    elif kind == "grad" or kind == "band":
        n = rng.integers(2, 4)
        cols = [jitter(LIGHT_BG[rng.integers(len(LIGHT_BG))], rng, 15) for _ in range(n)]
        if rng.random() < 0.5:
            cols[rng.integers(n)] = jitter(MID_BG[rng.integers(len(MID_BG))], rng, 20)
        stops = np.sort(rng.random(n))
        stops[0], stops[-1] = 0, 1
        img = vgrad(H, W, cols, stops)
    else:  # scenic
        sky_top = jitter(((120, 170, 230), (250, 140, 60), (200, 40, 40), (255, 255, 255),
                          (180, 210, 240), (250, 200, 80))[rng.integers(6)], rng, 20)
        sky_bot = jitter((250, 250, 250), rng, 10)
        img = vgrad(H, W, [sky_top, sky_bot, sky_bot], [0, rng.uniform(0.3, 0.7), 1])
        img = img.astype(np.uint8)
        if rng.random() < 0.6:
            draw_mountains(img, rng, jitter((150, 160, 190), rng, 40), H * rng.uniform(0.5, 0.9), H * 0.35)
        if rng.random() < 0.5:
            draw_mountains(img, rng, jitter((60, 110, 80), rng, 40), H * rng.uniform(0.8, 1.0), H * 0.2)
        if rng.random() < 0.25:  # rainbow arcs
            cx, cy = rng.uniform(0.2, 0.8) * W, H * rng.uniform(0.9, 1.4)
            for i, c in enumerate([(230, 60, 60), (240, 160, 50), (240, 230, 80), (80, 180, 90), (70, 120, 220)]):
                cv2.ellipse(img, (int(cx), int(cy)), (int(W * 0.5 - i * 5), int(H * 0.8 - i * 5)), 0, 180, 360,
                            c, 4, cv2.LINE_AA)
        if rng.random() < 0.25:  # flag / stars band
            y1 = int(H * rng.uniform(0.1, 0.25))
            cv2.rectangle(img, (0, 0), (W, y1), jitter((30, 50, 130), rng, 20), -1)
            for _ in range(rng.integers(5, 15)):
                draw_star(img, rng.uniform(0, W), rng.uniform(0, y1), rng.uniform(3, 6), (255, 255, 255))
        if rng.random() < 0.35:  # trees along the bottom
            for _ in range(rng.integers(2, 10)):
                draw_tree(img, rng, rng.uniform(0, W), H * rng.uniform(0.6, 0.85), H * rng.uniform(0.15, 0.4),
                          jitter((30, 90, 50), rng, 30))
        if rng.random() < 0.3:  # sun
            cv2.circle(img, (int(rng.uniform(0, W)), int(rng.uniform(0, H * 0.5))), int(rng.uniform(8, 30)),
                       jitter((250, 200, 60), rng, 20), -1, cv2.LINE_AA)
        img = img.astype(np.float32)
        # fade toward white so text stays readable
        img = img * rng.uniform(0.5, 1.0) + 255 * (1 - img.mean() / 255) * 0
    img = img.astype(np.uint8)
    if kind == "band" or rng.random() < 0.15:  # coloured bands top/bottom
        c = jitter(DARK_BG[rng.integers(len(DARK_BG))] if rng.random() < 0.7 else MID_BG[rng.integers(len(MID_BG))], rng)
        if rng.random() < 0.7:
            cv2.rectangle(img, (0, 0), (W, int(H * rng.uniform(0.12, 0.25))), c, -1)
        if rng.random() < 0.6:
            cv2.rectangle(img, (0, int(H * rng.uniform(0.78, 0.9))), (W, H), c, -1)
    if rng.random() < 0.3:  # big picture element behind the middle (tree, lincoln, moose, pelican...)
        cx = rng.uniform(0.3, 0.7) * W
        k = rng.integers(3)
        col = jitter((140, 140, 150), rng, 60)
        if k == 0:
            draw_tree(img, rng, cx, H * 0.1, H * 0.85, jitter((30, 110, 60), rng, 30))
        elif k == 1:
            cv2.ellipse(img, (int(cx), int(H * 0.55)), (int(H * 0.25), int(H * 0.35)), 0, 0, 360, col, -1, cv2.LINE_AA)
        else:
            n = rng.integers(5, 9)
            pts = np.stack([cx + rng.normal(0, H * 0.25, n), H * 0.5 + rng.normal(0, H * 0.25, n)], 1)
            cv2.fillPoly(img, [cv2.convexHull(pts.astype(np.int32))], col, lineType=cv2.LINE_AA)
        if rng.random() < 0.7:  # fade it
            img = cv2.addWeighted(img, rng.uniform(0.4, 0.8), np.full_like(img, 240), 0.4, 0)
    if rng.random() < 0.3:  # left-side picture (seal, bird, lighthouse)
        x1 = int(W * rng.uniform(0.12, 0.25))
        patch = np.zeros((H, x1, 3), np.uint8)
        patch[:] = jitter(LIGHT_BG[rng.integers(len(LIGHT_BG))], rng)
        for _ in range(rng.integers(3, 9)):
            c = rand_color(rng)
            if rng.random() < 0.5:
                cv2.circle(patch, (int(rng.uniform(0, x1)), int(rng.uniform(H * 0.2, H * 0.9))),
                           int(rng.uniform(4, x1 * 0.5)), c, -1, cv2.LINE_AA)
            else:
                p = np.stack([rng.uniform(0, x1, 4), rng.uniform(H * 0.15, H * 0.95, 4)], 1).astype(np.int32)
                cv2.fillPoly(patch, [p], c, lineType=cv2.LINE_AA)
        img[:, :x1] = patch
    return img, dark


def add_bolt_holes(img, rng):
    H, W = img.shape[:2]
    if rng.random() < 0.55:
        r = int(rng.uniform(3, 7))
        ys = [H * rng.uniform(0.06, 0.16)] + ([H * rng.uniform(0.84, 0.94)] if rng.random() < 0.5 else [])
        xs = [W * rng.uniform(0.18, 0.3), W * rng.uniform(0.7, 0.82)]
        c = jitter((70, 70, 70), rng, 50) if rng.random() < 0.7 else jitter((200, 200, 200), rng, 30)
        for y in ys:
            for x in xs:
                cv2.ellipse(img, (int(x), int(y)), (r + 2, r), 0, 0, 360, c, -1, cv2.LINE_AA)


def add_sticker(img, rng, x, y, w, h):
    c = rand_color(rng, 40, 255)
    cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), c, -1)
    if rng.random() < 0.5:
        cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), rand_color(rng), 1)
    tc = (0, 0, 0) if sum(c) > 380 else (255, 255, 255)
    t = [MONTHS[rng.integers(12)], "%02d" % rng.integers(0, 100), str(rng.integers(1, 13)),
         "%d" % rng.integers(1990, 2025)][rng.integers(4)]
    return put_text(img, rng, t, x + w / 2, y + h / 2, h * 0.75, tc, max_w=w * 0.9)


def plate_us(rng):
    H, W = PH, PW
    img, dark = background_us(rng)
    # header
    if rng.random() < 0.9:
        t = STATES[rng.integers(len(STATES))]
        hh = H * rng.uniform(0.12, 0.22)
        c = (LIGHT_TEXT if dark else DARK_TEXT)[rng.integers(len(LIGHT_TEXT if dark else DARK_TEXT))]
        if rng.random() < 0.2:
            c = rand_color(rng)
        img = put_text(img, rng, t, W * rng.uniform(0.45, 0.55), H * rng.uniform(0.08, 0.14) + hh * 0.2, hh,
                       c, max_w=W * rng.uniform(0.5, 0.9),
                       stroke=int(rng.random() < 0.15), stroke_fill=(255, 255, 255))
    # footer slogan
    if rng.random() < 0.85:
        t = SLOGANS[rng.integers(len(SLOGANS))]
        hh = H * rng.uniform(0.09, 0.16)
        c = (LIGHT_TEXT if dark else DARK_TEXT)[rng.integers(len(LIGHT_TEXT if dark else DARK_TEXT))]
        if rng.random() < 0.2:
            c = rand_color(rng)
        img = put_text(img, rng, t, W * rng.uniform(0.45, 0.55), H * rng.uniform(0.86, 0.93), hh,
                       c, max_w=W * rng.uniform(0.5, 0.9))
    add_bolt_holes(img, rng)
    # stickers in corners
    for _ in range(rng.choice(4, p=[0.25, 0.35, 0.3, 0.1])):
        w, h = W * rng.uniform(0.07, 0.14), H * rng.uniform(0.1, 0.2)
        corner = rng.integers(4)
        x = W * rng.uniform(0.01, 0.06) if corner % 2 == 0 else W * (1 - rng.uniform(0.01, 0.06)) - w
        y = H * rng.uniform(0.02, 0.1) if corner < 2 else H * (1 - rng.uniform(0.02, 0.1)) - h
        img = add_sticker(img, rng, x, y, w, h)
    # main characters
    groups = rand_text(rng, "us")
    if dark:
        color = LIGHT_TEXT[rng.integers(len(LIGHT_TEXT))]
    else:
        color = DARK_TEXT[rng.integers(len(DARK_TEXT))]
    color = jitter(color, rng, 20)
    nchar = sum(len(g) for g in groups)
    th = H * rng.uniform(0.4, 0.6) if nchar > 3 else H * rng.uniform(0.4, 0.55)
    ty = H * rng.uniform(0.5, 0.58) - th / 2
    left = W * rng.uniform(0.03, 0.1)
    right = W * (1 - rng.uniform(0.03, 0.1))
    if GENERATOR >= 5:  # characters up to the plate's edge
        if rng.random() < 0.3:
            right = W * (1 - rng.uniform(0.01, 0.03))
        if GENERATOR == 5 and rng.random() < 0.15:
            left = W * rng.uniform(0.01, 0.03)
    side = None
    if GENERATOR >= 2 and rng.random() < 0.12:  # a round logo beside the characters (Alabama, Bruins)
        lw = th * rng.uniform(0.7, 1.0)
        at_left = rng.random() < 0.75
        lx = left + lw / 2 if at_left else right - lw / 2
        draw_emblem(img, rng, lx, ty + th / 2, lw)
        if rng.random() < 0.5:
            img = put_text(img, rng, LETTERS[rng.integers(26)], lx, ty + th / 2, lw * 0.5,
                           rand_color(rng))
        if at_left:
            left += lw * rng.uniform(1.0, 1.2)
        else:
            right -= lw * rng.uniform(1.0, 1.2)
    if GENERATOR >= 7 and rng.random() < 0.12:  # a tall mark beside the characters
        at_left = rng.random() < 0.75
        mh = th * rng.uniform(0.75, 1.0)
        if rng.random() < 0.6:
            mx = left if at_left else right - mh * 0.95  # the symbol is at most 0.95 mh wide
            mw = draw_access_symbol(img, rng, mx, ty + (th - mh) / 2, mh, color)
        else:
            mw = th * rng.uniform(0.5, 0.8)
            mx = left if at_left else right - mw
            draw_tall_emblem(img, rng, mx + mw / 2, ty, th, mw)
        if at_left:
            left += mw * rng.uniform(1.1, 1.4)
        else:
            right -= mw * rng.uniform(1.1, 1.4)
    if rng.random() < (0.3 if GENERATOR >= 2 else 0.15):  # small stacked characters at a side
        side = rng.integers(2)
        sw = W * rng.uniform(0.06, 0.1)
        gap = sw * rng.uniform(*((0.05, 0.3) if GENERATOR >= 8 else (0.15, 0.4))) if GENERATOR >= 4 else 0.0
        if side == 0:
            sx0, left = left, left + sw + gap
        else:
            sx0, right = right - sw, right - sw - gap
        s = "".join(ALNUM[rng.integers(36)] for _ in range(rng.integers(2 if GENERATOR >= 4 else 1, 4)))
        gf = _STATE["plate"][rng.integers(len(_STATE["plate"]))]
        ch_h = th / len(s) * 0.9
        bold = None
        if GENERATOR >= 8 and rng.random() < 0.6:  # as bold as the main characters, wider
            bold = (max(2, int(ch_h * rng.uniform(0.06, 0.12))), rng.uniform(1.0, 1.4))
        for k, ch in enumerate(s):
            g = gf.glyph(ch)
            gw = max(1, int(g.shape[1] * ch_h / g.shape[0] * (bold[1] if bold else 1.0)))
            gm = cv2.resize(g, (gw, max(1, int(ch_h))), interpolation=cv2.INTER_AREA) / 255.0
            if bold:
                gm = cv2.dilate(gm, np.ones((max(1, bold[0] // 2), bold[0]), np.uint8))
            yy, xx = int(ty + k * th / len(s)), int(sx0 + (sw - gw) / 2)
            hh_, ww_ = gm.shape
            if yy + hh_ <= H and xx + ww_ <= W and xx >= 0:
                sub = img[yy:yy + hh_, xx:xx + ww_].astype(np.float32)
                img[yy:yy + hh_, xx:xx + ww_] = (sub * (1 - gm[..., None]) + np.array(color) * gm[..., None]).astype(np.uint8)
    img, _ = render_main(img, rng, groups, _STATE["plate"], _STATE["plate_w"],
                         (left, ty, right, ty + th), color, "us")
    label = "".join(groups)
    # Common US convention (and in the real validation labels): letter O and digit 0 share a glyph
    # on most plates, so the label uses 0 for both most of the time.
    if "O" in label and rng.random() < 0.85:
        label = label.replace("O", "0")
    return img, label


def plate_eu(rng):
    H, W = 110, 520 if rng.random() < 0.6 else 360  # long single-row or shorter
    bg = (250, 250, 250) if rng.random() < 0.75 else (250, 205, 30)
    img = np.ones((H, W, 3), np.uint8) * np.array(jitter(bg, rng, 8), np.uint8)
    cv2.rectangle(img, (0, 0), (W - 1, H - 1), (20, 20, 20), int(rng.uniform(2, 6)))
    bw = int(W * rng.uniform(0.07, 0.1))
    left = bw + 8
    if rng.random() < 0.9:
        cv2.rectangle(img, (3, 3), (bw, H - 3), jitter((0, 51, 153), rng, 15), -1)
        for k in range(12):
            a = k * math.pi / 6
            cv2.circle(img, (int(bw / 2 + bw * 0.28 * math.cos(a)), int(H * 0.3 + bw * 0.28 * math.sin(a))), 2,
                       (255, 204, 0), -1)
        img = put_text(img, rng, EU_CODES[rng.integers(len(EU_CODES))], bw / 2 + 2, H * 0.75, H * 0.25,
                       (255, 255, 255), max_w=bw * 0.85)
    else:
        left = 10
    groups = rand_text(rng, "eu")
    th = H * rng.uniform(0.62, 0.75)
    ty = (H - th) / 2
    img, _ = render_main(img, rng, groups, _STATE["eu"], _STATE["eu_w"], (left, ty, W - 10, ty + th),
                         jitter((15, 15, 15), rng, 10), "eu")
    return img, "".join(groups)


def plate_br(rng):
    H, W = 130, 400
    img = np.ones((H, W, 3), np.uint8) * np.array(jitter((248, 248, 248), rng, 6), np.uint8)
    bh = int(H * rng.uniform(0.2, 0.26))
    cv2.rectangle(img, (0, 0), (W, bh), jitter((0, 50, 160), rng, 15), -1)
    img = put_text(img, rng, "BRASIL", W / 2, bh / 2, bh * 0.8, (255, 255, 255), max_w=W * 0.3)
    cv2.rectangle(img, (W - 40, 4), (W - 12, bh - 4), (0, 150, 60), -1)
    cv2.circle(img, (W - 26, bh // 2), max(2, bh // 5), (40, 40, 160), -1)
    cv2.rectangle(img, (8, 4), (30, bh - 4), (230, 230, 230), 1)
    cv2.rectangle(img, (0, 0), (W - 1, H - 1), (30, 30, 30), 3)
    groups = rand_text(rng, "br")
    groups = ["".join(groups)] if rng.random() < 0.9 else groups
    th = (H - bh) * rng.uniform(0.62, 0.76)
    ty = bh + (H - bh - th) / 2
    img, _ = render_main(img, rng, groups, _STATE["eu"], _STATE["eu_w"], (16, ty, W - 16, ty + th),
                         jitter((15, 15, 15), rng, 10), "br")
    return img, "".join(groups)


# ---------------------------------------------------------------- frame / crop / camera
def add_frame(img, rng):
    H, W = img.shape[:2]
    if rng.random() < 0.18:  # dealer / chrome frame covering top and bottom
        c = jitter((20, 20, 20), rng, 15) if rng.random() < 0.6 else jitter((170, 170, 175), rng, 30)
        t_top = int(H * rng.uniform(0.03, 0.14))
        t_bot = int(H * rng.uniform(0.05, 0.2))
        t_side = int(W * rng.uniform(0.01, 0.04))
        img[:t_top] = c
        img[H - t_bot:] = c
        img[:, :t_side] = c
        img[:, W - t_side:] = c
        if rng.random() < 0.5 and t_bot > 10:
            img = put_text(img, rng, ["FRAMINGHAM, MA", "HONDA", "AUTO MALL", "TOYOTA OF", "FORD",
                                      "DEALER.COM", "CHEVROLET"][rng.integers(7)], W / 2, H - t_bot / 2,
                           t_bot * 0.7, (240, 240, 240) if sum(c) < 300 else (20, 20, 20), max_w=W * 0.6)
    return img


def camera(img, rng):
    """Place the plate in a crop with margins + perspective, then degrade the image."""
    H, W = img.shape[:2]
    # surrounding: car body colour / texture
    S = 1.3
    big_w, big_h = int(W * S), int(H * S)
    body = np.ones((big_h, big_w, 3), np.float32) * np.array(rand_color(rng, 0, 230), np.float32)
    body += rng.normal(0, rng.uniform(1, 15), (1, 1, 3)) * np.linspace(-1, 1, big_h)[:, None, None]
    body = np.clip(body, 0, 255).astype(np.uint8)
    ox, oy = (big_w - W) // 2, (big_h - H) // 2
    body[oy:oy + H, ox:ox + W] = img
    # plate corners in the big image
    src = np.float32([[ox, oy], [ox + W, oy], [ox + W, oy + H], [ox, oy + H]])
    # crop quad around plate with margin jitter (tight crop: plate fills the crop)
    if rng.random() < 0.75:  # tight crop like the real crops
        mx = W * rng.uniform(-0.02, 0.025, 4)
        my = H * rng.uniform(-0.03, 0.04, 4)
    else:
        mx = W * rng.uniform(-0.03, 0.07, 4)
        my = H * rng.uniform(-0.04, 0.12, 4)
    ang = math.radians(rng.uniform(-5, 5))
    shear = rng.uniform(-0.08, 0.08)
    persp = rng.uniform(-0.06, 0.06) * H
    quad = np.float32([[ox - mx[0], oy - my[0] - persp], [ox + W + mx[1], oy - my[1] + persp],
                       [ox + W + mx[2], oy + H + my[2] - persp], [ox - mx[3], oy + H + my[3] + persp]])
    c = quad.mean(0)
    R = np.float32([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    quad = (quad - c) @ R.T + c
    quad[:, 0] += (quad[:, 1] - c[1]) * shear
    # destination size: intermediate resolution simulating the camera's real resolution
    res = rng.choice([0, 1, 2], p=[0.65, 0.25, 0.1])
    dw = int(rng.uniform(200, 320)) if res == 0 else (int(rng.uniform(110, 200)) if res == 1 else int(rng.uniform(60, 110)))
    dh = int(dw * rng.uniform(0.45, 0.56))
    dst = np.float32([[0, 0], [dw, 0], [dw, dh], [0, dh]])
    M = cv2.getPerspectiveTransform(quad, dst)
    interp = cv2.INTER_AREA if res == 0 else cv2.INTER_LINEAR
    out = cv2.warpPerspective(body, M, (dw, dh), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    out = out.astype(np.float32)
    h, w = out.shape[:2]
    # lighting: gradient, shadow, glare
    if rng.random() < 0.5:
        gx = np.linspace(rng.uniform(0.6, 1.0), rng.uniform(0.8, 1.2), w)[None, :, None]
        gy = np.linspace(rng.uniform(0.7, 1.1), rng.uniform(0.8, 1.2), h)[:, None, None]
        out *= gx * gy
    if rng.random() < 0.25:  # hard shadow edge
        p = np.stack([rng.uniform(-w, 2 * w, 3), rng.uniform(-h, 2 * h, 3)], 1).astype(np.int32)
        m = np.zeros((h, w), np.float32)
        cv2.fillPoly(m, [p], 1.0)
        m = cv2.GaussianBlur(m, (0, 0), rng.uniform(0.5, 3))
        out *= (1 - rng.uniform(0.3, 0.7) * m[..., None])
    if rng.random() < 0.2:  # glare spot
        m = np.zeros((h, w), np.float32)
        cv2.ellipse(m, (int(rng.uniform(0, w)), int(rng.uniform(0, h))),
                    (int(rng.uniform(5, w / 3)), int(rng.uniform(3, h / 3))), rng.uniform(0, 180), 0, 360, 1.0, -1)
        m = cv2.GaussianBlur(m, (0, 0), rng.uniform(3, 10))
        out += m[..., None] * rng.uniform(60, 200)
    if rng.random() < 0.2:  # dirt / speckle
        m = cv2.GaussianBlur(rng.random((h, w)).astype(np.float32), (0, 0), rng.uniform(1, 4))
        m = (m - m.mean()) / (m.std() + 1e-6)
        out *= (1 - rng.uniform(0.05, 0.2) * np.clip(m, 0, 3)[..., None] / 3)
    # contrast / brightness / gamma / colour
    if rng.random() < 0.2:  # low contrast
        k = rng.uniform(0.4, 0.85)
        out = out * k + out.mean() * (1 - k)
    out = out * rng.uniform(0.7, 1.2) + rng.uniform(-25, 25)
    out *= rng.uniform(0.9, 1.1, 3)[None, None, :]
    out = np.clip(out, 0, 255)
    if rng.random() < 0.4:
        g = rng.uniform(0.6, 1.6)
        out = 255 * (out / 255) ** g
    if rng.random() < 0.1:  # grayscale / IR-ish night shot
        gray = out.mean(2, keepdims=True)
        if rng.random() < 0.5:
            gray = 255 * (gray / 255) ** rng.uniform(0.5, 0.9)
        out = np.repeat(gray, 3, 2)
    # blur
    r = rng.random()
    if r < 0.25:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 1.3))
    elif r < 0.35:
        k = int(rng.integers(3, 8))
        ker = np.zeros((k, k), np.float32)
        ker[k // 2, :] = 1.0 / k
        Mr = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
        ker = cv2.warpAffine(ker, Mr, (k, k))
        ker /= ker.sum() + 1e-6
        out = cv2.filter2D(out, -1, ker)
    if rng.random() < 0.5:
        out += rng.normal(0, rng.uniform(1, 10), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        q = int(rng.uniform(20, 90))
        ok, enc = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, q])
        out = cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1]
    interp = [cv2.INTER_LINEAR, cv2.INTER_AREA, cv2.INTER_CUBIC][rng.integers(3)]
    out = cv2.resize(out, (OUT_W, OUT_H), interpolation=interp)
    return np.ascontiguousarray(out)


def make_sample(seed, idx, us_frac=0.82, eu_frac=0.09):
    _init_fonts()
    rng = np.random.default_rng([seed, idx])
    r = rng.random()
    if r < us_frac:
        img, label = plate_us(rng)
        img = add_frame(img, rng)
    elif r < us_frac + eu_frac:
        img, label = plate_eu(rng)
    else:
        img, label = plate_br(rng)
    return camera(img, rng), label


# ---------------------------------------------------------------- dataset writing
def _work(args):
    seed, start, stop, path, total = args
    arr = np.load(path, mmap_mode="r+")
    labels = []
    for i in range(start, stop):
        img, lab = make_sample(seed, i)
        arr[i] = img
        labels.append(lab)
    arr.flush()
    return start, labels


def generate(count, seed, out, workers=1, chunk=2000):
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "images.npy")
    arr = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(count, OUT_H, OUT_W, 3))
    del arr
    jobs = [(seed, s, min(count, s + chunk), path, count) for s in range(0, count, chunk)]
    labels = [None] * count
    t0 = time.time()
    done = 0
    if workers > 1:
        import multiprocessing as mp
        with mp.get_context("fork").Pool(workers) as pool:
            for start, labs in pool.imap_unordered(_work, jobs):
                labels[start:start + len(labs)] = labs
                done += len(labs)
                print(f"  {done}/{count} samples, {time.time() - t0:.0f}s", flush=True)
    else:
        for j in jobs:
            start, labs = _work(j)
            labels[start:start + len(labs)] = labs
            done += len(labs)
            print(f"  {done}/{count} samples, {time.time() - t0:.0f}s", flush=True)
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("\n".join(labels) + "\n")
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump({"count": count, "seed": seed, "generator": GENERATOR, "h": OUT_H, "w": OUT_W,
                   "fonts_plate": [g.path for g in _init_fonts()["plate"]],
                   "seconds": round(time.time() - t0, 1)}, f, indent=1)
    print(f"wrote {count} samples to {out} in {time.time() - t0:.0f}s")


def sheet(count, seed, path, cols=6, scale=2):
    from PIL import ImageDraw as D
    rows = (count + cols - 1) // cols
    W, H = OUT_W * scale, OUT_H * scale
    im = Image.new("RGB", (cols * W, rows * (H + 14)), "white")
    d = D.Draw(im)
    for i in range(count):
        img, lab = make_sample(seed, i)
        x, y = (i % cols) * W, (i // cols) * (H + 14)
        im.paste(Image.fromarray(img).resize((W, H), Image.NEAREST), (x, y))
        d.text((x + 2, y + H), lab, fill="black")
    im.save(path)
    print("wrote", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="output directory for images.npy/labels.txt")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--sheet", help="write a contact sheet PNG of --count samples instead")
    ap.add_argument("--generator", type=int, default=GENERATOR, choices=[1, 2, 3, 4, 5, 6, 7, 8],
                    help="generator version (2, 3, 4 and 8 make the shipped model's training sets again, 1 the earlier model's; 5 and 6 were tried, not kept; 7 is part of 8)")
    a = ap.parse_args()
    globals()["GENERATOR"] = a.generator
    if a.sheet:
        sheet(a.count, a.seed, a.sheet)
    elif a.out:
        generate(a.count, a.seed, a.out, a.workers)
    else:
        ap.error("need --out or --sheet")


if __name__ == "__main__":
    main()
