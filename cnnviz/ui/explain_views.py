"""The network explorer's further "why" pictures: integrated gradients and occlusion beside
saliency and Grad-CAM, a guide to reading them, and what one channel looks for (the picture that
excites it most, and the test images that do)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import attributions, describe, evidence, images, model_cards, shipped_results, work_budget
from cnnviz.attributions.occlusion import REFERENCE_WINDOWS, step_within, unit_for, window_count
from cnnviz.attributions.integrated_gradients import MAX_PATH_VALUES, MIN_STEPS
from cnnviz.attributions.maximise import DEFAULTS as MAXIMISE, objective
from cnnviz.ui import evidence_view, figures, model_cache, result_cache, share
from cnnviz.ui.figures.pictures import load_font
from cnnviz.ui.layer_views.common import png_image

BASELINES = {"black": "a black picture", "blur": "a blurred copy of the picture"}
IG_STEPS = 128   # completeness within 1 % on the shipped models (64 steps: up to ~3 %)
SQUARES, STEPS = [2, 3, 4, 6, 8], [1, 2, 3, 4]   # occlusion, in units of unit_for pixels
VIEW_WINDOWS = 400   # covered copies one occlusion view runs: ~0.35 s of the CIFAR-10 network here
GRID_CHANNELS = 16
TOP_IMAGES = 9   # test images shown per channel
GUIDE = (
    "**How to read them**\n\n"
    "- **Saliency**: where a tiny change of a pixel moves the score most. Quick, but speckled "
    "and about sensitivity, not cause; SmoothGrad calms it.\n"
    "- **Grad-CAM**: which parts of the picture the late maps that favour the class look at. "
    "Coarse (one cell per map position); trust it for *where*, not for fine detail.\n"
    "- **Integrated gradients**: each pixel's share of the score's change from the baseline to "
    "your picture; the shares add up to that change (checked below the map). Depends on the "
    "baseline: black says little about dark pixels.\n"
    "- **Occlusion**: how much the probability drops when a grey square hides that spot. No "
    "gradients, just the network run again; slow for big pictures and blind to anything smaller "
    "than the square.\n"
)


def _signed_picture(values: np.ndarray, size: int):
    """A signed map, red where it raises the score and blue where it lowers it, zero white; the
    top 1% of |values| drawn at full strength so a few extremes do not wash out the rest."""
    top = float(np.percentile(np.abs(values), 99)) or float(np.abs(values).max()) or 1.0
    return figures.picture_image(values, size, cmap="diverging", lo=-top, hi=top)


def _per_picture(network) -> int:
    return work_budget.values_per_picture(network.specs)


def smoothgrad_copies(network) -> int:
    """The most noisy copies SmoothGrad may average for this network (a multiple of 5, 5 to 50)."""
    most = work_budget.fit(attributions.MAX_SMOOTHGRAD_SAMPLES, _per_picture(network))
    return max(5, most // 5 * 5)


def ig_steps(network, x: np.ndarray) -> int:
    """IG_STEPS, or fewer where the network's size or the path's gradients would cost more."""
    return max(MIN_STEPS, min(work_budget.fit(IG_STEPS, _per_picture(network)), MAX_PATH_VALUES // x.size))


def ig_controls() -> str:
    """The integrated-gradients baseline (a segmented control)."""
    return st.segmented_control("Baseline", list(BASELINES), key="net_ig_baseline", required=True,
                                format_func=str.capitalize,
                                help="What the picture is compared with: the path of pictures "
                                     "runs from this baseline to yours.") or next(iter(BASELINES))


def integrated_gradients_picture(network, x: np.ndarray, cls: int, class_name: str, size: int,
                                 baseline: str) -> None:
    steps = ig_steps(network, x)
    attr, gap = result_cache.shared(network, "integrated_gradients", x, (cls, baseline, steps))
    total = float(attr.sum())
    change = total - gap
    fewer = (f" {steps} steps along the path (not {IG_STEPS}: a network this size costs more "
             "per step)." if steps < IG_STEPS else "")
    png_image(_signed_picture(attr, size), width="stretch",
              caption=f"Integrated gradients from {BASELINES[baseline]}: red pixels raise the "
                      f"“{class_name}” logit, blue lower it. The map adds up to {total:.3f}; "
                      f"logit(picture) − logit(baseline) = {change:.3f}"
                      + (f" (off by {abs(gap) / abs(change):.2%})." if change else ".") + fewer,
              alt=describe.heat_map(attr, f"Integrated gradients for class {class_name}"))


def occlusion_unit(network, shape) -> int:
    """Pixels per unit of the square and step settings: more on large inputs and big networks,
    so the network never runs on many more covered copies than the shipped ones do."""
    windows = work_budget.fit(REFERENCE_WINDOWS, _per_picture(network), least=16)
    return unit_for(shape, windows)


def occlusion_window(network, shape, square: int, step: int) -> tuple[int, int, int]:
    """(square, step as asked, step used) in pixels for the square and step settings: the step
    widened so that one view runs the network on at most VIEW_WINDOWS covered copies."""
    unit = occlusion_unit(network, shape)
    patch, stride = square * unit, min(step, square) * unit
    return patch, stride, step_within(shape, patch, stride, VIEW_WINDOWS, unit)


def occlusion_controls(network, x: np.ndarray) -> tuple[int, int] | None:
    """The square and step sliders and what they mean here: (square, step) in pixels, or None
    when the square is larger than the picture."""
    unit = occlusion_unit(network, x.shape)
    a, b = st.columns(2)
    square = a.select_slider("Square", SQUARES, value=4, key="net_occ_patch",
                             format_func=lambda n: f"{n * unit} × {n * unit}", help="The grey square that "
                             "hides part of the picture.")
    step = b.select_slider("Step", STEPS, value=min(2, square), key="net_occ_stride",
                           format_func=lambda n: f"{n * unit}",
                           help="How far the square moves each time.")
    patch, asked, stride = occlusion_window(network, x.shape, square, step)
    if unit > 1:
        st.caption(f"Square and step scaled to this {images.shape_text(x.shape)} input: each is "
                   f"{unit} × the setting made for 32 × 32 pictures, so the network runs on at most "
                   f"{min(VIEW_WINDOWS, window_count(x.shape, SQUARES[0] * unit, STEPS[0] * unit)):,} "
                   "covered copies.")
    if stride != asked:
        st.caption(f"Step {asked} would run the network on {window_count(x.shape, patch, asked):,} "
                   f"covered copies, more than the {VIEW_WINDOWS} one view may, so the step is {stride}.")
    if patch > min(x.shape[:2]):
        st.caption("The square is larger than the picture.")
        return None
    return patch, stride


def occlusion_picture(network, x: np.ndarray, cls: int, class_name: str, size: int,
                      patch: int, stride: int) -> None:
    drop = result_cache.shared(network, "occlusion", x, (cls, patch, stride))
    png_image(_signed_picture(drop, size), width="stretch",
              caption=f"Occlusion: red where hiding a {patch} × {patch} square lowers the “{class_name}” "
                      f"probability (largest drop {float(drop.max()):.1%}), blue where it raises it. "
                      f"The network ran on {window_count(x.shape, patch, stride):,} "
                      f"covered copies.",
              alt=describe.heat_map(drop, f"Occlusion for class {class_name}"))


SMOOTHGRAD_COPIES, SMOOTHGRAD_NOISE = 20, 0.15   # the explorer's defaults


def gradient_layers(network) -> tuple[list[str], int]:
    """The layers "the gradient inside" can show (up to the logits) and the default's index
    (the first layer with maps)."""
    spatial = spatial_layers(network)
    layers = [s.name for s in network.specs if s.kind != "input" and s.index <= network.score_index]
    return layers, (layers.index(spatial[0]) if spatial else 0)


def default_why_requests(network, x: np.ndarray, cls: int) -> list[tuple[str, tuple]]:
    """The (method, settings) of every "why" map the explorer shows for this picture and class
    before a visitor changes a setting (what scripts/make_precomputed.py ships)."""
    from cnnviz import probe
    patch, _, stride = occlusion_window(network, x.shape, 4, 2)
    layers, first = gradient_layers(network)
    return [("saliency", (cls, min(SMOOTHGRAD_COPIES, smoothgrad_copies(network)), SMOOTHGRAD_NOISE)),
            ("grad_cam", (cls, probe.default_cam_layer(network))),
            ("integrated_gradients", (cls, "black", ig_steps(network, x))),
            ("occlusion", (cls, patch, stride)),
            ("layer_gradients", (cls, layers[first]))]


# ----------------------------------------------------------------------------- one channel

def _grid(pictures: np.ndarray, width: int):
    """Pictures N x H x W x C in [0, 1] as one mosaic with the channel number above each."""
    from PIL import Image, ImageDraw
    n = len(pictures)
    cols = min(8, n)
    k = work_budget.shrink_factor(pictures.shape[1], pictures.shape[2], cols, width)
    if k > 1:                                      # a large input: no wider than shown
        pictures = np.stack([work_budget.shrink(pic, k) for pic in pictures])
    h, w = pictures.shape[1:3]
    rows = -(-n // cols)
    f = max(1, (width - 4 * (cols + 1)) // (cols * w))
    label = 14
    canvas = Image.new("RGB", (cols * w * f + 4 * (cols + 1), rows * (h * f + label) + 4 * (rows + 1)), "white")
    draw = ImageDraw.Draw(canvas)
    for i, pic in enumerate(pictures):
        r, c = divmod(i, cols)
        x0, y0 = 4 + c * (w * f + 4), 4 + r * (h * f + label + 4)
        draw.text((x0, y0), str(i), fill=(60, 60, 60), font=load_font(11))
        canvas.paste(Image.fromarray(figures.upscale(figures.rgb8(pic[..., 0] if pic.shape[-1] == 1 else pic), f)),
                     (x0, y0 + label))
    return canvas


def maximise_plan(network, channels: int) -> tuple[int, int]:
    """(ascent steps for one picture, channels drawn together in the grid): the defaults, or
    fewer for a network whose pictures cost more than the shipped ones'."""
    per_picture = _per_picture(network)
    steps = MAXIMISE["steps"]
    single = min(steps, work_budget.fit(steps * GRID_CHANNELS, per_picture, least=16))
    return single, min(channels, work_budget.fit(GRID_CHANNELS, per_picture))


def most_exciting(loaded, layer: str, channels: list[int], steps: int) -> np.ndarray:
    """The most exciting pictures of these channels: shipped with the network, or computed."""
    name = model_cache.shipped_name(loaded.probe)
    shipped = shipped_results.grid(name, layer, channels, steps) if name else None
    if shipped is not None:
        return shipped
    return attributions.maximise_grid(loaded.probe, layer, channels, steps=steps)


def channel_top_images(loaded, layer: str, channel: int, x_test: np.ndarray) -> list:
    """The channel's top test images: shipped with the network (for this test set), or computed."""
    name = model_cache.shipped_name(loaded.probe)
    shipped = shipped_results.top_images(name, layer, channel, x_test, TOP_IMAGES) if name else None
    if shipped is not None:
        return evidence.top_images_at(loaded.model, layer, *shipped)
    return evidence.top_images_for_channel(loaded.model, layer, channel, x_test, limit=TOP_IMAGES)


def excites_most(loaded, layer: str, channel: int, channels: int) -> None:
    network = loaded.probe
    steps, shown = maximise_plan(network, channels)
    fewer = (f" {steps} steps, not {MAXIMISE['steps']}: a network this size costs more per step."
             if steps < MAXIMISE["steps"] else "")
    st.markdown(f"**The picture that excites channel {channel} most**, found by changing a noise "
                "picture step by step to raise the channel's mean (with small random shifts and "
                "blurring so it stays smooth)." + fewer)
    with st.spinner("Drawing it (once per network and channel)…", show_time=True):
        pic = most_exciting(loaded, layer, [channel], steps)[0]
    png_image(figures.picture_image(pic, share.scaled(260)),
              caption=f"{layer}, channel {channel}: mean value "
                      f"{objective(network, layer, channel, pic):.3f} on this "
                      f"picture (noise: {objective(network, layer, channel, np.full_like(pic, 0.5)):.3f} "
                      "on plain grey)",
              alt=describe.picture(pic, f"The picture that excites channel {channel} of {layer} most"))
    grid_key = f"net_max_grid:{loaded.name}:{layer}"
    if st.session_state.get(grid_key):
        with st.spinner(f"Drawing {shown} channels…", show_time=True):
            grid = most_exciting(loaded, layer, list(range(shown)), steps)
        png_image(_grid(grid, share.scaled(520)), caption=f"{layer}: the first {shown} channels, each "
                  "its own most exciting picture",
                  alt=describe.stack(np.moveaxis(np.asarray(grid).mean(axis=-1), 0, -1),
                                     f"The most exciting pictures of the first {shown} channels of {layer}", "picture"))
    else:
        st.button(f"Draw the first {shown} channels of {layer}", key=f"net_max_grid_go:{loaded.name}:{layer}",
                  on_click=lambda: st.session_state.__setitem__(grid_key, True))
    if shown < min(channels, GRID_CHANNELS):
        st.caption(f"{shown} channels at a time, not {min(channels, GRID_CHANNELS)}: a network this "
                   "size costs more per picture.")


def top_test_images(loaded, layer: str, channel: int) -> None:
    card = loaded.card
    st.markdown(f"**The test images that excite channel {channel} most**, each with the patch "
                "under its strongest response (the part of the picture that position sees).")
    found = evidence_view.test_set_for(loaded)
    if found is None:
        return
    run_key = f"net_top_on:{loaded.name}:{layer}"
    if not st.session_state.get(run_key):
        st.button(f"Search the {len(found.y_test):,} test images", key=f"net_top_go:{loaded.name}:{layer}",
                  on_click=lambda: st.session_state.__setitem__(run_key, True),
                  help="Runs the network up to this layer on every test image (once per server).")
        return
    with st.spinner("Running the network up to this layer on the test images…", show_time=True):
        top = channel_top_images(loaded, layer, channel, found.x_test)
    cols = st.columns(3)
    for i, t in enumerate(top):
        pixels = model_cards.to_model_input(found.x_test[t.index : t.index + 1])[0]
        pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
        if t.box is not None:
            top_, left, bottom, right = t.box
            img = figures.crop_box_image(pixels, top_, left, bottom - top_, right - left, size=share.scaled(150))
        else:
            img = figures.picture_image(pixels, share.scaled(150))
        label = card["class_names"][int(found.y_test[t.index])]
        with cols[i % 3]:
            png_image(img, caption=f"#{t.index} ({label}): {t.score:.2f}",
                      alt=f"Test image {t.index}, a {label}, scores {t.score:.2f}"
                      + (f"; its strongest patch: rows {t.box[0]} to {t.box[2] - 1}, columns {t.box[1]} to {t.box[3] - 1}."
                         if t.box is not None else "."))
    st.caption(f"Scores: the channel's largest value in {layer}'s map for that image. "
               f"{images.shape_text(found.x_test.shape[1:3])} test pictures from: {found.description.rstrip('.')}.")


def spatial_layers(network) -> list[str]:
    """The layers with maps before the class scores (Grad-CAM can look at any of them)."""
    return [s.name for s in network.specs if len(s.output_shape) == 3 and s.kind != "input"
            and s.index <= network.score_index]


def default_channel_layer(layers: list[str]) -> str:
    """The layer the channel view opens with (shared_work prepares its results)."""
    return layers[len(layers) // 2]


def channel_section(loaded, layers: list[str]) -> None:
    """"What does one channel look for?": a layer and channel, its best picture, its top images."""
    network = loaded.probe
    c1, c2 = st.columns([2, 1])
    layer = c1.selectbox("Layer", layers, index=layers.index(default_channel_layer(layers)), key=f"net_chan_layer:{loaded.name}",
                         help="Early layers look for colours and edges, later ones for textures and parts.")
    channels = int(network.spec(layer).output_shape[-1])
    channel = int(c2.number_input(f"Channel (0–{channels - 1})", 0, channels - 1, 0,
                                  key=f"net_chan_channel:{loaded.name}:{layer}"))
    left, right = st.columns(2, gap="large")
    with left:
        excites_most(loaded, layer, channel, channels)
    with right:
        top_test_images(loaded, layer, channel)
