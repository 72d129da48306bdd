"""Shapes: a built-in, offline, deterministic detection data set: the renderer.

Distillation results need a data set that every machine can build in seconds without a
download, yet one on which a small student is clearly worse than a large teacher. Shapes is
built for that: six classes that differ in outline (not in colour), cluttered backgrounds,
un-annotated distractors, rotation, occlusion and objects from about 8 px to 60 % of the image,
so COCO's small, medium and large size groups all occur.

This module draws one image (and its boxes) from a random generator;
:mod:`.shapes_writer` writes whole data sets to disk. It needs only numpy and OpenCV.
"""
import cv2
import numpy as np

__all__ = [
    'SHAPE_CLASSES', 'SHAPE_PALETTE', 'GENERATOR_VERSION', 'MIN_VISIBLE_FRACTION',
    'sample_object_colour', 'render_detection_image', 'render_classification_image',
    'check_image_size'
]

SHAPE_CLASSES = ('circle', 'square', 'triangle', 'star', 'ring', 'cross')
# RGB (MMDetection's palette convention) at each class's preferred hue, for visualisation.
SHAPE_PALETTE = ((230, 30, 30), (220, 200, 30), (40, 200, 40), (30, 200, 210), (40, 70, 230),
                 (210, 40, 210))
# Bump whenever a change alters the rendered pixels or annotations: meta.json records it, so
# data sets written by an older generator are regenerated instead of silently reused.
GENERATOR_VERSION = 1
# Objects hidden more than this (by later objects, distractors or the image border) are not
# annotated: a detector cannot be expected to find them, and COCO drops such crowd-like cases.
MIN_VISIBLE_FRACTION = 0.3

# Preferred hues in OpenCV units (0..180), 30 apart. The jitter is wider than half the spacing,
# so neighbouring classes overlap and a colour-only classifier stays far from solving the task.
_CLASS_HUES = (0, 30, 60, 90, 120, 150)
_HUE_JITTER = 22.0
_RANDOM_COLOUR_PROB = 0.3
_MIN_EXTENT = 8.0
_MAX_EXTENT_FRACTION = 0.6
_MAX_OBJECTS = 8
_MAX_DISTRACTORS = 6
# Sub-pixel precision of OpenCV's polygon drawing (coordinates are multiplied by 2**4).
_SHIFT = 4


def sample_object_colour(rng, class_index):
    """Draw the fill colour of one object of a class.

    Each class has a preferred hue, jittered widely; a share of objects gets a uniformly random
    hue, and saturation and brightness are always random. Colour therefore hints at the class
    but cannot decide it.

    Args:
        rng (np.random.Generator): Source of randomness.
        class_index (int): 0-based index into :data:`SHAPE_CLASSES`.

    Returns:
        np.ndarray: float32 array of shape (3,), the colour in BGR order, values in [0, 255].
    """
    if rng.random() < _RANDOM_COLOUR_PROB:
        hue = rng.uniform(0, 180)
    else:
        hue = _CLASS_HUES[class_index] + rng.normal(0, _HUE_JITTER)
    sat, val = rng.uniform(70, 255, size=2)
    hsv = np.array([[[int(round(hue)) % 180, round(sat), round(val)]]], np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def _rotation(angle):
    """2x2 matrix that rotates row vectors (``points @ R``) by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, s], [-s, c]])


def _circle(num_points, radius=1.0):
    angles = np.linspace(0, 2 * np.pi, num_points, endpoint=False)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _shape_outline(rng, class_index, num_arc_points):
    """Contours of a class's shape around the origin with circumradius about 1.

    Returns a list of ``(points, value)`` filled in order; a ring's hole is a second contour
    filled with 0 so the background shows through it.
    """
    name = SHAPE_CLASSES[class_index]
    if name == 'circle':
        return [(_circle(num_arc_points), 255)]
    if name == 'square':
        return [(_circle(4) @ _rotation(np.pi / 4), 255)]
    if name == 'triangle':
        return [(_circle(3) @ _rotation(np.pi / 2), 255)]
    if name == 'star':
        radii = np.tile([1.0, rng.uniform(0.38, 0.5)], 5)
        return [(_circle(10) * radii[:, None], 255)]
    if name == 'ring':
        inner = rng.uniform(0.45, 0.7)
        return [(_circle(num_arc_points), 255), (_circle(num_arc_points, inner), 0)]
    if name == 'cross':
        a = rng.uniform(0.22, 0.35)
        quarter = np.array([[a, 1.0], [a, a], [1.0, a]])
        # the other three arms are the first one turned by 90, 180 and 270 degrees
        arms = [quarter @ _rotation(-k * np.pi / 2) for k in range(4)]
        return [(np.concatenate(arms), 255)]
    raise ValueError(f'unknown shape class {name!r}')


def _rasterise(contours, thickness=None, closed=True):
    """Draw contours given in image coordinates into a tight local alpha canvas.

    The canvas covers the whole shape even where it leaves the image, so the shape's full
    (amodal) area and box can be measured afterwards.

    Args:
        contours (list[tuple[np.ndarray, int]]): ``(points (N, 2) as x, y, value)`` pairs,
            drawn in order.
        thickness (int, optional): Draw open or closed polylines of this width instead of
            filled polygons.
        closed (bool): Whether polylines are closed.

    Returns:
        tuple[np.ndarray, int, int]: uint8 anti-aliased alpha (h, w) and the image coordinates
        ``x0, y0`` of its top-left pixel.
    """
    points = np.concatenate([pts for pts, _ in contours])
    pad = 2 + (thickness or 0)
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + pad
    alpha = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for pts, value in contours:
        fixed = np.round((pts - (x0, y0)) * (1 << _SHIFT)).astype(np.int32)
        if thickness is None:
            cv2.fillPoly(alpha, [fixed], value, cv2.LINE_AA, _SHIFT)
        else:
            cv2.polylines(alpha, [fixed], closed, value, thickness, cv2.LINE_AA, _SHIFT)
    return alpha, int(x0), int(y0)


def _shape_layer(rng, class_index, centre, radius, angle):
    """Rasterise one rotated, slightly anisotropic object of a class."""
    num_arc_points = int(np.clip(radius * 2, 24, 128))
    stretch = rng.uniform(0.85, 1.15, size=2)
    transform = np.diag(stretch * radius) @ _rotation(angle)
    contours = [(pts @ transform + centre, value)
                for pts, value in _shape_outline(rng, class_index, num_arc_points)]
    return _rasterise(contours)


def _distractor_layer(rng, centre, radius):
    """Rasterise a clutter object that is none of the six classes (never annotated)."""
    kind = rng.integers(4)
    rotation = _rotation(rng.uniform(0, 2 * np.pi))
    thickness = int(max(1, round(radius * rng.uniform(0.08, 0.25))))
    if kind == 0:
        # lumpy polygon: many vertices at jittered, roughly even angles, so it can look
        # neither like a regular outline nor (with large angular gaps) like a triangle
        count = rng.integers(6, 11)
        angles = (np.arange(count) + rng.uniform(-0.3, 0.3, count)) * (2 * np.pi / count)
        radii = rng.uniform(0.5, 1.0, count)[:, None]
        pts = radii * np.stack([np.cos(angles), np.sin(angles)], axis=1)
        return _rasterise([(pts * radius + centre, 255)])
    if kind == 1:
        # scribble: a short random walk
        steps = rng.normal(0, 0.6, size=(rng.integers(4, 12), 2))
        pts = np.cumsum(steps, axis=0)
        pts -= pts.mean(axis=0)
        return _rasterise([(pts * radius + centre, 255)], thickness, closed=False)
    if kind == 2:
        # elongated ellipse, far from round so it is not mistaken for a circle
        pts = _circle(48) * (1.0, rng.uniform(0.15, 0.4))
        return _rasterise([(pts @ rotation * radius + centre, 255)])
    # open arc, never the full turn that would make it a ring
    span = np.deg2rad(rng.uniform(60, 250))
    angles = np.linspace(0, span, 32)
    pts = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return _rasterise([(pts @ rotation * radius + centre, 255)], thickness, closed=False)


def _paint(image, owner, layer, colour, rng, owner_id):
    """Alpha-blend a textured fill through a layer and record which pixels it now covers."""
    alpha, x0, y0 = layer
    height, width = image.shape[:2]
    ix0, iy0 = max(x0, 0), max(y0, 0)
    ix1, iy1 = min(x0 + alpha.shape[1], width), min(y0 + alpha.shape[0], height)
    # drawn even when off-image, so the random stream does not depend on where objects land
    fill = _texture(rng, colour, alpha.shape)
    if ix1 <= ix0 or iy1 <= iy0:
        return
    crop = (slice(iy0 - y0, iy1 - y0), slice(ix0 - x0, ix1 - x0))
    a = alpha[crop][..., None].astype(np.float32) / 255
    region = image[iy0:iy1, ix0:ix1].astype(np.float32)
    blended = region * (1 - a) + fill[crop] * a
    image[iy0:iy1, ix0:ix1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    owner[iy0:iy1, ix0:ix1][alpha[crop] >= 128] = owner_id


def _texture(rng, colour, shape):
    """Fill of an object: its colour with directional shading, noise and sometimes stripes."""
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = xx * np.cos(direction) + yy * np.sin(direction)
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1.0) - 0.5
    shade = 1 + rng.uniform(0, 0.7) * ramp
    fill = colour * shade[..., None]
    if rng.random() < 0.2:
        # two-coloured stripes blur the link between a class and one colour even further
        period = rng.uniform(3, 12)
        stripes = (np.floor((xx * np.sin(direction) - yy * np.cos(direction)) / period) % 2)
        second = rng.uniform(0, 255, 3).astype(np.float32)
        fill = np.where(stripes[..., None] > 0, second * shade[..., None], fill)
    fill += rng.normal(0, rng.uniform(0, 10), size=fill.shape).astype(np.float32)
    return fill


def _render_background(rng, height, width):
    """A cluttered background: gradient, low-frequency noise, soft blobs and lines."""
    scale = min(height, width) / 256
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = xx * np.cos(direction) + yy * np.sin(direction)
    ramp = (ramp - ramp.min()) / max(np.ptp(ramp), 1.0)
    start, end = rng.uniform(0, 255, size=(2, 3)).astype(np.float32)
    background = start + (end - start) * ramp[..., None]
    grid = rng.integers(2, 9)
    noise = rng.normal(0, 1, size=(grid, grid, 3)).astype(np.float32)
    background += cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC) * \
        rng.uniform(10, 45)
    image = np.clip(background, 0, 255).astype(np.uint8)

    blobs = image.copy()
    for _ in range(rng.integers(1, 3 + int(6 * scale))):
        centre = rng.uniform((0, 0), (width, height)).astype(int)
        axes = (rng.uniform(0.03, 0.25, size=2) * (width, height)).astype(int) + 1
        cv2.ellipse(blobs, tuple(map(int, centre)), tuple(map(int, axes)), rng.uniform(0, 180), 0,
                    360,
                    rng.uniform(0, 255, 3).tolist(), -1, cv2.LINE_AA)
    # blobs are soft and half transparent so they read as background texture: crisp round
    # blobs would be unannotated circles
    blobs = cv2.GaussianBlur(blobs, (0, 0), rng.uniform(4, 10) * scale)
    weight = rng.uniform(0.3, 0.8)
    image = cv2.addWeighted(image, 1 - weight, blobs, weight, 0)
    sigma = rng.uniform(0.5, 3.0) * max(scale, 0.25)
    image = cv2.GaussianBlur(image, (0, 0), sigma)

    for _ in range(rng.integers(1, 3 + int(12 * scale))):
        p0, p1 = rng.uniform((0, 0), (width, height), size=(2, 2)).astype(int)
        thickness = int(rng.integers(1, 2 + int(2 * scale)))
        cv2.line(image, tuple(map(int, p0)), tuple(map(int, p1)),
                 rng.uniform(0, 255, 3).tolist(), thickness, cv2.LINE_AA)
    return image


def _camera_noise(rng, image):
    """Sensor-like per-pixel noise, so flat regions never stay perfectly flat."""
    noise = rng.normal(0, rng.uniform(1, 6), size=image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def _random_extent(rng, max_extent):
    """Object diameter, log-uniform so small objects are as common as in real data sets."""
    return float(np.exp(rng.uniform(np.log(_MIN_EXTENT), np.log(max_extent))))


def _annotate(layer, visible_pixels, height, width):
    """Amodal, image-clipped box of one object, or None when it is too hidden or too thin."""
    alpha, x0, y0 = layer
    mask = alpha >= 128
    full_area = int(mask.sum())
    if full_area == 0 or visible_pixels / full_area < MIN_VISIBLE_FRACTION:
        return None
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    left, right = np.clip([x0 + cols[0], x0 + cols[-1] + 1], 0, width)
    top, bottom = np.clip([y0 + rows[0], y0 + rows[-1] + 1], 0, height)
    if right - left < 2 or bottom - top < 2:
        return None
    return [float(left), float(top), float(right - left), float(bottom - top)]


def check_image_size(height, width):
    """Refuse images smaller than 32 px a side (too small for the shapes' outlines)."""
    if min(height, width) < 32:
        raise ValueError(f'image size {height}x{width} is too small; use at least 32x32')


def render_detection_image(rng, img_size):
    """Render one detection image with 1 to 8 annotated objects.

    Objects and distractors are painted in random order, so later ones occlude earlier ones.
    Every object keeps its full (amodal) box, clipped to the image; an object whose visible
    fraction is below :data:`MIN_VISIBLE_FRACTION` is left unannotated.

    Args:
        rng (np.random.Generator): Source of randomness; the image depends only on its state.
        img_size (tuple[int, int]): ``(height, width)`` in pixels, each at least 32.

    Returns:
        tuple[np.ndarray, list[dict]]: The BGR uint8 image of shape (height, width, 3), and one
        dict per annotated object with ``bbox`` ([x, y, w, h] floats, w and h >= 2),
        ``category_id`` (1-based index into :data:`SHAPE_CLASSES`) and ``area`` (the box area,
        which is what COCO evaluation compares detections against here, as there are no masks).
    """
    height, width = (int(v) for v in img_size)
    check_image_size(height, width)
    # occlusion can hide every object of an attempt; redrawing from the same stream keeps the
    # result deterministic while guaranteeing at least one annotation
    for _ in range(100):
        image, objects = _render_detection_attempt(rng, height, width)
        if objects:
            break
    return image, objects


def _render_detection_attempt(rng, height, width):
    image = _render_background(rng, height, width)
    owner = np.full((height, width), -1, np.int16)
    num_objects = int(rng.integers(1, _MAX_OBJECTS + 1))
    num_distractors = int(rng.integers(0, _MAX_DISTRACTORS + 1))
    max_extent = _MAX_EXTENT_FRACTION * min(height, width)
    layers, classes = [], []
    for item in rng.permutation(num_objects + num_distractors):
        centre = rng.uniform((0, 0), (width, height))
        radius = _random_extent(rng, max_extent) / 2
        if item < num_objects:
            class_index = int(rng.integers(len(SHAPE_CLASSES)))
            layer = _shape_layer(rng, class_index, centre, radius, rng.uniform(0, 2 * np.pi))
            colour = sample_object_colour(rng, class_index)
            _paint(image, owner, layer, colour, rng, len(layers))
            layers.append(layer)
            classes.append(class_index)
        else:
            layer = _distractor_layer(rng, centre, radius)
            colour = sample_object_colour(rng, int(rng.integers(len(SHAPE_CLASSES))))
            _paint(image, owner, layer, colour, rng, -1)
    image = _camera_noise(rng, image)

    visible = np.bincount(owner.ravel() + 1, minlength=len(layers) + 1)[1:]
    objects = []
    for layer, class_index, visible_pixels in zip(layers, classes, visible):
        bbox = _annotate(layer, visible_pixels, height, width)
        if bbox is not None:
            objects.append(dict(bbox=bbox, category_id=class_index + 1, area=bbox[2] * bbox[3]))
    return image, objects


def render_classification_image(rng, img_size, class_index):
    """Render one classification image: a single roughly centred object on clutter.

    Args:
        rng (np.random.Generator): Source of randomness; the image depends only on its state.
        img_size (int): Side of the square image in pixels, at least 32.
        class_index (int): 0-based index into :data:`SHAPE_CLASSES` of the object to draw.

    Returns:
        np.ndarray: The BGR uint8 image of shape (img_size, img_size, 3).
    """
    size = int(img_size)
    check_image_size(size, size)
    image = _render_background(rng, size, size)
    owner = np.full((size, size), -1, np.int16)
    # small distractors go underneath the object so the label stays unambiguous
    for _ in range(rng.integers(0, 3)):
        centre = rng.uniform(0, size, size=2)
        layer = _distractor_layer(rng, centre, rng.uniform(0.08, 0.18) * size)
        colour = sample_object_colour(rng, int(rng.integers(len(SHAPE_CLASSES))))
        _paint(image, owner, layer, colour, rng, -1)
    centre = size / 2 + rng.uniform(-0.12, 0.12, size=2) * size
    radius = rng.uniform(0.22, 0.45) * size
    layer = _shape_layer(rng, class_index, centre, radius, rng.uniform(0, 2 * np.pi))
    _paint(image, owner, layer, sample_object_colour(rng, class_index), rng, 0)
    return _camera_noise(rng, image)
