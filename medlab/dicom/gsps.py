"""Grayscale Softcopy Presentation State: how to show an image, stored apart from it.

A GSPS (PS3.3 A.33.1) is its own instance, in its own series, that *refers* to
images and records how they should be displayed: a VOI window (Softcopy VOI
LUT module, C.11.8), a Presentation LUT shape (C.11.6), a rotation and flip
(Spatial Transformation module, C.10.6: rotate clockwise first, then flip),
the displayed area (C.10.4) and text and graphic annotations on layers
(Graphic Annotation module, C.10.5). The image's Pixel Data is never touched;
a viewer applies the state at display time, in the order of PS3.4 Annex N.

:func:`create_gsps` builds one with highdicom; :func:`apply_presentation_state`
renders an image through one (what a viewer does).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from medlab.dicom._read import dataset_errors
from medlab.dicom.display import apply_window, modality_values
from medlab.errors import MedlabError

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from pydicom import Dataset

__all__ = ["create_gsps", "apply_presentation_state", "Presented", "draw_presented"]


def _fixed_uid(name: str) -> str:
    """A deterministic UUID-derived UID (PS3.5 B.2: ``2.25.`` + the UUID as an integer)."""
    import uuid

    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, 'medlab:' + name).int}"


#: Fixed UIDs, so stored notebook outputs never change (a real system makes new ones).
GSPS_SERIES_UID = _fixed_uid("lesson06/gsps/series")
GSPS_INSTANCE_UID = _fixed_uid("lesson06/gsps/instance")


@dataset_errors(
    "build a presentation state for this image",
    "A GSPS refers to a grayscale image (one sample per pixel) with its Study, Series and SOP Instance UIDs; try medlab.data.get_path('ct').",
)
def create_gsps(
    image: Dataset,
    *,
    window: tuple[float, float] = (40.0, 80.0),
    rotation: int = 0,
    flip: bool = False,
    text: str = "",
    text_at: tuple[float, float] = (20.0, 20.0),
    polyline: list[tuple[float, float]] | None = None,
    label: str = "MEDLAB_GSPS",
    series_uid: str = GSPS_SERIES_UID,
    instance_uid: str = GSPS_INSTANCE_UID,
) -> Dataset:
    """Build a GSPS for ``image`` with highdicom.

    Records a VOI window ``(center, width)``, a clockwise ``rotation`` of 0, 90,
    180 or 270 degrees, an optional horizontal ``flip``, a text annotation at
    ``text_at`` = (column, row) and an optional ``polyline`` of (column, row)
    points, all in the image's PIXEL coordinates (PS3.3 C.10.5.1.2).
    highdicom has no parameter for the Spatial Transformation module, so
    Image Rotation (0070,0042) and Image Horizontal Flip (0070,0041) are set
    on the result with pydicom.
    """
    import highdicom as hd
    import numpy as np

    if rotation not in (0, 90, 180, 270):
        raise MedlabError(
            f"Image Rotation must be 0, 90, 180 or 270 degrees, not {rotation}",
            where="Image Rotation (0070,0042)",
            fix="Rotate in quarter turns; use flip=True for a mirror image (PS3.3 C.10.6).",
        )
    layer = hd.pr.GraphicLayer(layer_name="ANNOTATIONS", order=1, description="medlab demo")
    graphics = []
    if polyline:
        graphics.append(
            hd.pr.GraphicObject(
                graphic_type=hd.pr.GraphicTypeValues.POLYLINE,
                graphic_data=np.asarray(polyline, dtype=float),
                units=hd.pr.AnnotationUnitsValues.PIXEL,
            )
        )
    texts = []
    if text:
        texts.append(
            hd.pr.TextObject(
                text_value=text,
                units=hd.pr.AnnotationUnitsValues.PIXEL,
                anchor_point=tuple(float(v) for v in text_at),
                anchor_point_visible=False,
            )
        )
    annotations = []
    if graphics or texts:
        annotations.append(
            hd.pr.GraphicAnnotation(
                referenced_images=[image],
                graphic_layer=layer,
                graphic_objects=graphics or None,
                text_objects=texts or None,
            )
        )
    with warnings.catch_warnings():
        # highdicom checks the Patient's Name it copies from the image; sample
        # data often holds an ID there ("CQ500-CT-310"), which is legal PN.
        warnings.filterwarnings("ignore", message=".*intended person name.*")
        pr = _build_gsps(hd, image, series_uid, instance_uid, label, annotations, layer, window)
    pr.ImageRotation = rotation
    pr.ImageHorizontalFlip = "Y" if flip else "N"
    _displayed_area_after_transform(pr, image, rotation, flip)
    # General Series: Laterality is Type 2C, needed unless Body Part Examined says the
    # part is not paired. Copy the image's; without one, Laterality is sent empty.
    if "BodyPartExamined" in image and image.BodyPartExamined:
        pr.BodyPartExamined = image.BodyPartExamined
    if "Laterality" in image:
        pr.Laterality = image.Laterality
    elif "BodyPartExamined" not in pr:
        pr.Laterality = ""
    # Fixed dates keep the course outputs identical on every run.
    for keyword in (
        "PresentationCreationDate",
        "ContentDate",
        "InstanceCreationDate",
        "SeriesDate",
    ):
        if keyword in pr:
            setattr(pr, keyword, "20240101")
    for keyword in (
        "PresentationCreationTime",
        "ContentTime",
        "InstanceCreationTime",
        "SeriesTime",
    ):
        if keyword in pr:
            setattr(pr, keyword, "120000")
    return pr


def _displayed_area_after_transform(pr: Dataset, image: Dataset, rotation: int, flip: bool) -> None:
    """Set the displayed area's corners as PS3.3 C.10.4 defines them: after the rotation.

    Displayed Area Top Left Hand Corner is "the top left (after spatial
    transformation) pixel in the referenced image": the image pixel that ends up
    top left once rotated and flipped (e.g. the bottom-left one after a quarter
    turn clockwise). highdicom writes the untransformed corners.
    """
    rows, cols = int(image.Rows), int(image.Columns)
    corners = [(1, 1), (cols, 1), (1, rows), (cols, rows)]  # (column, row), 1-based
    shown = {
        corner: _transform_point(corner[0] - 1, corner[1] - 1, rows, cols, rotation, flip)
        for corner in corners
    }
    top_left = min(corners, key=lambda c: (shown[c][1], shown[c][0]))
    bottom_right = max(corners, key=lambda c: (shown[c][1], shown[c][0]))
    for item in pr.get("DisplayedAreaSelectionSequence", []):
        item.DisplayedAreaTopLeftHandCorner = list(top_left)
        item.DisplayedAreaBottomRightHandCorner = list(bottom_right)


def _build_gsps(
    hd: Any,
    image: Dataset,
    series_uid: str,
    instance_uid: str,
    label: str,
    annotations: list[Any],
    layer: Any,
    window: tuple[float, float],
) -> Dataset:
    return hd.pr.GrayscaleSoftcopyPresentationState(
        referenced_images=[image],
        series_instance_uid=series_uid,
        series_number=900,
        sop_instance_uid=instance_uid,
        instance_number=1,
        manufacturer="medlab",
        manufacturer_model_name="medlab course",
        software_versions="1",
        device_serial_number="0",
        content_label=label,
        content_description="window, rotation and annotation",
        graphic_annotations=annotations or None,
        graphic_layers=[layer] if annotations else None,
        voi_lut_transformations=[
            hd.pr.SoftcopyVOILUTTransformation(
                window_center=float(window[0]),
                window_width=float(window[1]),
            )
        ],
    )


@dataclass
class Presented:
    """An image as a viewer would show it: pixels in [0, 1] and annotations.

    ``annotations`` holds ``("text", [(x, y)], value)`` and
    ``("polyline", [(x, y), ...], "")`` in *displayed* pixel coordinates
    (after rotation and flip), x = column, y = row.
    """

    pixels: np.ndarray
    annotations: list[tuple[str, list[tuple[float, float]], str]] = field(default_factory=list)
    window: tuple[float, float] | None = None
    rotation: int = 0
    flip: bool = False


def _transform_point(
    x: float, y: float, rows: int, cols: int, rotation: int, flip: bool
) -> tuple[float, float]:
    """Map an image pixel position through a clockwise rotation, then a horizontal flip."""
    # Pixel centres: column x in [0, cols - 1], row y in [0, rows - 1].
    for _ in range(rotation // 90):
        x, y = rows - 1 - y, x  # one quarter turn clockwise: new width is the old height
        rows, cols = cols, rows
    if flip:
        x = cols - 1 - x
    return x, y


@dataset_errors(
    "apply this presentation state",
    "Pass an image and a presentation state made for it (medlab.dicom.create_gsps).",
)
def apply_presentation_state(image: Dataset, pr: Dataset | None = None) -> Presented:
    """Render ``image`` through presentation state ``pr`` (or plainly, with ``pr=None``).

    Order of PS3.4 N.2: Modality LUT (from the image), the GSPS's Softcopy VOI
    window, the Presentation LUT Shape (INVERSE flips the grey scale), then the
    spatial transformation (rotate clockwise, then flip) which also moves the
    PIXEL-unit annotations. Without ``pr`` the image's own header window is used.
    """
    import numpy as np

    from medlab.dicom.display import to_display

    if pr is None:
        return Presented(to_display(image))
    values = modality_values(image)
    window = None
    voi = pr.get("SoftcopyVOILUTSequence")
    if voi and "WindowCenter" in voi[0]:
        c, w = voi[0].WindowCenter, voi[0].WindowWidth
        window = (
            float(c[0] if not isinstance(c, (int, float)) else c),
            float(w[0] if not isinstance(w, (int, float)) else w),
        )
        pixels = apply_window(values, *window, str(voi[0].get("VOILUTFunction", "LINEAR")))
    else:
        pixels = to_display(image)
    if pr.get("PresentationLUTShape") == "INVERSE":
        pixels = 1.0 - pixels
    rotation = int(pr.get("ImageRotation", 0) or 0)
    flip = pr.get("ImageHorizontalFlip") == "Y"
    rows, cols = pixels.shape
    shown = np.rot90(pixels, k=-(rotation // 90))  # k < 0: clockwise
    if flip:
        shown = shown[:, ::-1]
    annotations: list[tuple[str, list[tuple[float, float]], str]] = []
    for ann in pr.get("GraphicAnnotationSequence", []):
        for obj in ann.get("GraphicObjectSequence", []):
            data = [float(v) for v in obj.GraphicData]
            pts = [
                _transform_point(data[i], data[i + 1], rows, cols, rotation, flip)
                for i in range(0, len(data), 2)
            ]
            annotations.append((str(obj.GraphicType).lower(), pts, ""))
        for obj in ann.get("TextObjectSequence", []):
            if "AnchorPoint" in obj:
                x, y = (float(v) for v in obj.AnchorPoint)
            else:
                x, y = (float(v) for v in obj.BoundingBoxTopLeftHandCorner)
            annotations.append(
                (
                    "text",
                    [_transform_point(x, y, rows, cols, rotation, flip)],
                    str(obj.UnformattedTextValue),
                )
            )
    return Presented(np.ascontiguousarray(shown), annotations, window, rotation, flip)


def draw_presented(ax: Axes, presented: Presented) -> list[Any]:
    """Draw a :class:`Presented` image with its annotations on ``ax``; return the artists."""
    artists: list[Any] = [
        ax.imshow(presented.pixels, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ]
    for kind, pts, value in presented.annotations:
        if kind == "text":
            artists.append(
                ax.text(pts[0][0], pts[0][1], value, color="yellow", fontsize=9, va="top")
            )
        else:
            xs, ys = zip(*pts, strict=True)
            artists.extend(ax.plot(xs, ys, color="yellow", lw=1.5))
    ax.set_axis_off()
    return artists
