"""Synthetic phantoms for the built sample studies: pure, deterministic arrays.

Every function here returns the same numbers on every machine and every numpy
version, so ``medlab data build`` writes the same bytes every time:

* the noise comes from :func:`noise`, a counter-based generator (SplitMix64 on
  ``uint64`` arrays) instead of ``numpy.random``, whose streams are only stable
  within a numpy version;
* the shapes use only ``+ - * /``, comparisons and ``sqrt``, which IEEE 754
  rounds exactly; no ``exp``/``sin``, whose last bit can differ between the
  SIMD code paths numpy picks on different CPUs.

Geometry follows the DICOM patient coordinate system (PS3.3 C.7.6.2.1.1):
``x`` grows towards the patient's left, ``y`` towards the back (posterior),
``z`` towards the head. An axial image with Image Orientation (Patient)
``1\\0\\0\\0\\1\\0`` therefore has the patient's left on the right of the
image, and the back at the bottom, as a radiologist reads a CT.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


def noise(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Approximately standard-normal noise, identical on every platform.

    SplitMix64 (Steele, Lea & Flood 2014) turns the counters ``0, 1, 2, ...``
    into 64-bit pseudo-random integers; the sum of four uniforms (Irwin-Hall)
    rescaled to unit variance is close enough to Gaussian for image noise.
    """
    import numpy as np

    n = 1
    for dim in shape:
        n *= dim
    base = np.uint64((seed * _GOLDEN) & _MASK)
    z = np.arange(4 * n, dtype=np.uint64) * np.uint64(_GOLDEN) + base
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    uniform = (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))
    total = uniform.reshape(4, n).sum(axis=0)  # fixed order: 4 rows added elementwise
    return ((total - 2.0) * np.sqrt(3.0)).reshape(shape)


def _grid(rows: int, cols: int, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in mm, origin at the image centre (x right, y down)."""
    import numpy as np

    x = (np.arange(cols, dtype=np.float64) - (cols - 1) / 2.0) * spacing
    y = (np.arange(rows, dtype=np.float64) - (rows - 1) / 2.0) * spacing
    return np.meshgrid(x, y)


def _ellipse(x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float, b: float) -> np.ndarray:
    """Boolean mask of the ellipse centred at (cx, cy) with semi-axes a (x) and b (y)."""
    return ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2 <= 1.0


# --------------------------------------------------------------------------- CT
#: Hounsfield units of the CT phantom's materials (PS3.3 C.8.2.1: CT pixel
#: values after the Modality LUT / Rescale are in HU: water 0, air -1000).
HU = {
    "air": -1000.0,
    "lung": -850.0,
    "fat": -100.0,
    "water": 0.0,
    "soft_tissue": 40.0,
    "cancellous_bone": 700.0,
    "cortical_bone": 1000.0,
}


@dataclass(frozen=True)
class ROI:
    """A circular region of interest in patient coordinates (mm) and its expected HU range."""

    name: str
    x: float
    y: float
    radius: float
    low: float
    high: float

    def mask(self, rows: int, cols: int, spacing: float) -> np.ndarray:
        x, y = _grid(rows, cols, spacing)
        return (x - self.x) ** 2 + (y - self.y) ** 2 <= self.radius**2


#: Where each material of the CT phantom can be measured, valid on every slice
#: of both CT series (means over the ROI fall in [low, high] HU).
CT_ROIS: tuple[ROI, ...] = (
    ROI("air", 0.0, -150.0, 8.0, -1010.0, -990.0),
    ROI("lung", -75.0, -10.0, 10.0, -870.0, -830.0),
    ROI("fat", 0.0, -108.0, 3.0, -120.0, -80.0),
    ROI("soft_tissue", 0.0, -20.0, 10.0, 30.0, 50.0),
    ROI("water", -45.0, 130.0, 6.0, -10.0, 10.0),
    ROI("bone", 0.0, 62.0, 6.0, 650.0, 750.0),
    ROI("dense_bone", 45.0, 130.0, 6.0, 950.0, 1050.0),
)


#: Pulmonary vessel offsets from each lung's centre (mm, mirrored) and radii.
_VESSELS = (
    (-22.0, -34.0, 2.5),
    (16.0, -38.0, 2.0),
    (-26.0, 8.0, 3.0),
    (22.0, 12.0, 2.5),
    (-12.0, 36.0, 2.0),
)


def ct_hu(z: float, rows: int = 512, spacing: float = 0.7) -> np.ndarray:
    """The noiseless CT phantom at table position ``z`` mm, in HU (float64).

    An anthropomorphic chest section: a body ellipse with a 12 mm fat layer
    over soft tissue, two lungs whose size depends on ``z`` (smaller towards
    the apex) with a few vessels, a heart, a vertebra (cancellous body, cortical rim, spinous
    process), eight ribs, and two calibration rods under the back (water and
    a bone-equivalent rod), as quantitative CT uses.
    """
    import numpy as np

    x, y = _grid(rows, rows, spacing)
    img = np.full((rows, rows), HU["air"])
    img[_ellipse(x, y, 0, 0, 160, 115)] = HU["fat"]
    img[_ellipse(x, y, 0, 0, 148, 103)] = HU["soft_tissue"]
    # Lungs shrink towards the apex (z = +30 mm) and the diaphragm (z = -60 mm).
    scale = max(0.55, 1.0 - ((z + 15.0) / 75.0) ** 2)
    for side in (-1.0, 1.0):
        img[_ellipse(x, y, side * 75.0, -10.0, 52.0 * scale + 8.0, 70.0 * scale + 10.0)] = HU[
            "lung"
        ]
    # Pulmonary vessels: soft-tissue dots that drift outwards with z (kept clear of the lung ROI).
    for side in (-1.0, 1.0):
        for dx, dy, r in _VESSELS:
            cx = side * (75.0 + dx + 0.15 * (z + 30.0))
            img[_ellipse(x, y, cx, -10.0 + dy, r, r)] = HU["soft_tissue"]
    img[_ellipse(x, y, 22.0, -25.0, 38.0, 32.0)] = HU["soft_tissue"]  # heart
    # Vertebra: cortical rim, cancellous body, spinous process.
    img[_ellipse(x, y, 0, 62.0, 22.0, 19.0)] = HU["cortical_bone"]
    img[_ellipse(x, y, 0, 62.0, 18.0, 15.0)] = HU["cancellous_bone"]
    img[_ellipse(x, y, 0, 92.0, 6.0, 11.0)] = HU["cortical_bone"]
    # Ribs: small cortical cross-sections just inside the fat layer.
    for rx, ry in (
        (-128, -55),
        (128, -55),
        (-140, 5),
        (140, 5),
        (-125, 60),
        (125, 60),
        (-70, 92),
        (70, 92),
    ):
        img[_ellipse(x, y, rx, ry, 5.0, 4.0)] = HU["cortical_bone"]
    # Calibration rods under the patient's back.
    img[_ellipse(x, y, -45.0, 130.0, 11.0, 11.0)] = HU["water"]
    img[_ellipse(x, y, 45.0, 130.0, 11.0, 11.0)] = HU["cortical_bone"]
    return img


def ct_slice(
    z: float, seed: int, sigma: float, rows: int = 512, spacing: float = 0.7
) -> np.ndarray:
    """A CT slice as stored values: ``HU + 1024`` as uint16 (RescaleIntercept -1024, slope 1).

    ``sigma`` is the noise in HU (a soft kernel ~8 HU, a sharp bone kernel ~25 HU).
    Stored values are clipped to 12 bits (0..4095, i.e. -1024..3071 HU).
    """
    import numpy as np

    hu = ct_hu(z, rows, spacing) + sigma * noise((rows, rows), seed)
    return np.clip(np.rint(hu + 1024.0), 0, 4095).astype(np.uint16)


# --------------------------------------------------------------------------- MR
#: Signal of the MR head phantom's tissues on a T1-weighted spin echo (arbitrary units):
#: fat bright, white matter brighter than grey matter, CSF and cortical bone dark.
MR_SIGNAL = {
    "background": 0.0,
    "scalp_fat": 950.0,
    "skull": 60.0,
    "grey_matter": 480.0,
    "white_matter": 680.0,
    "csf": 160.0,
}


def mr_slice(z: float, seed: int, rows: int = 256, spacing: float = 0.9375) -> np.ndarray:
    """A T1-weighted axial MR slice of a head phantom at ``z`` mm, as uint16 (12 bits used).

    The head shrinks above and below ``z = 0``; the lateral ventricles appear
    in the middle slices; a smooth receive-coil bias brightens the periphery;
    the noise is Rician (magnitude of complex Gaussian noise), as in real
    magnitude images, so the background is not zero.
    """
    import numpy as np

    x, y = _grid(rows, rows, spacing)
    s = MR_SIGNAL
    scale = max(0.45, 1.0 - (z / 70.0) ** 2)
    a, b = 72.0 * scale + 8.0, 92.0 * scale + 10.0
    img = np.full((rows, rows), s["background"])
    img[_ellipse(x, y, 0, 0, a, b)] = s["scalp_fat"]
    img[_ellipse(x, y, 0, 0, a - 4, b - 4)] = s["skull"]
    img[_ellipse(x, y, 0, 0, a - 9, b - 9)] = s["csf"]
    img[_ellipse(x, y, 0, 0, a - 11, b - 11)] = s["grey_matter"]
    img[_ellipse(x, y, 0, 0, a - 17, b - 17)] = s["white_matter"]
    if abs(z) <= 20.0:  # lateral ventricles, butterfly-shaped pair
        for side in (-1.0, 1.0):
            img[_ellipse(x, y, side * 9.0, -8.0, 6.0, 24.0 - abs(z) * 0.5)] = s["csf"]
    for side in (-1.0, 1.0):  # deep grey matter (thalami)
        img[_ellipse(x, y, side * 16.0, 18.0, 9.0, 11.0)] = s["grey_matter"]
    bias = 1.0 + 0.25 * ((x / 120.0) ** 2 + (y / 120.0) ** 2)
    sigma = 12.0
    real = img * bias + sigma * noise((rows, rows), seed)
    imag = sigma * noise((rows, rows), seed + 1_000_003)
    mag = np.sqrt(real * real + imag * imag)
    return np.clip(np.rint(mag), 0, 4095).astype(np.uint16)


# --------------------------------------------------------------------------- CR
def chest_cr(rows: int = 1024, cols: int = 832, spacing: float = 0.42, seed: int = 7) -> np.ndarray:
    """A PA chest radiograph phantom, stored the MONOCHROME1 way, as uint16 (12 bits).

    A computed radiography plate records the X-ray exposure; the reader stores
    a value that grows with the logarithm of exposure. Behind air and the lungs
    much radiation arrives (high values), behind bone and the mediastinum
    little (low values). With Photometric Interpretation MONOCHROME1
    (PS3.3 C.7.6.3.1.2) the *minimum* value is displayed white, so bones look
    white and lungs dark, like a film. Shown as MONOCHROME2 by mistake, the
    image looks like a negative.

    The model: stored = 3800 - 14 x (water-equivalent path length in mm),
    with the torso's thickness from an ellipse, air-filled lungs (hidden by the
    heart and mediastinum), spine, ten pairs of posterior ribs, clavicles, two
    diaphragm domes (the right one higher, above the liver), and an unexposed
    collimator margin (value 80, white).
    """
    import numpy as np

    x, y = _grid(rows, cols, spacing)
    # Patient's right is on the image left in a PA view: x < 0 is the right side.
    half_width = np.interp(
        y, [-215.0, -160.0, -120.0, 0.0, 120.0, 215.0], [45.0, 60.0, 165.0, 160.0, 150.0, 145.0]
    )
    inside = np.clip(1.0 - (x / half_width) ** 2, 0.0, None)
    path = 220.0 * np.sqrt(inside)  # mm of soft tissue along the beam
    # Lungs: air replaces tissue, less so towards their edges; the domes cut them below.
    for side, top, dome in ((-1.0, -150.0, 85.0), (1.0, -145.0, 100.0)):
        cx = side * 72.0
        r2 = ((x - cx) / 62.0) ** 2 + ((y - (top + 130.0)) / 130.0) ** 2
        below_dome = y > dome - 0.006 * (x - cx) ** 2
        lung = np.clip(1.0 - r2, 0.0, None)
        lung[below_dome] = 0.0
        path -= 150.0 * np.sqrt(lung)
    heart = _ellipse(x, y, 28.0, 45.0, 68.0, 52.0)
    path[heart] = np.maximum(path[heart], 190.0)
    mediastinum = (np.abs(x) < 30.0) & (y > -150.0) & (y < 120.0)
    path[mediastinum] = np.maximum(path[mediastinum], 185.0)
    bone = np.zeros_like(path)
    bone += 14.0 * (np.abs(x) < 16.0) * (y > -200.0)  # spine, faint behind the mediastinum
    for k in range(10):  # posterior ribs: arcs running out from the spine and down
        y0 = -125.0 + 24.0 * k
        dist = np.abs(y - (y0 + 0.0045 * (np.abs(x) - 15.0) ** 2))
        reach = (np.abs(x) > 15.0) & (np.abs(x) < 130.0 + 3.0 * k)
        bone += 14.0 * ((dist < 5.0) & reach) + 8.0 * ((dist < 3.0) & reach)
    clavicle = np.abs(y - (-140.0 - 0.12 * (np.abs(x) - 20.0))) < 6.0
    bone += 25.0 * (clavicle & (np.abs(x) > 20.0) & (np.abs(x) < 140.0))
    attenuation = path + 1.8 * bone * (inside > 0)
    stored = 3800.0 - 14.0 * attenuation
    stored = stored + 20.0 * noise((rows, cols), seed)
    margin = 24
    stored[:margin, :] = stored[-margin:, :] = 80.0
    stored[:, :margin] = stored[:, -margin:] = 80.0
    return np.clip(np.rint(stored), 0, 4095).astype(np.uint16)
