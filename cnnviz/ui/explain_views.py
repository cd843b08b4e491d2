"""The network explorer's further "why" pictures: integrated gradients and occlusion beside
saliency and Grad-CAM, a guide to reading them, and what one channel looks for (the picture that
excites it most, and the test images that do)."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import attributions, evidence, images, model_cards
from cnnviz.attributions.maximise import objective
from cnnviz.attributions.occlusion import windows
from cnnviz.ui import evidence_view, figures, share
from cnnviz.ui.figures.pictures import load_font
from cnnviz.ui.layer_views.common import png_image

BASELINES = {"black": "a black picture", "blur": "a blurred copy of the picture"}
IG_STEPS = 128   # completeness within 1 % on the shipped models (64 steps: up to ~3 %)
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


def integrated_gradients_picture(network, x: np.ndarray, cls: int, class_name: str, size: int) -> None:
    baseline = st.segmented_control("Baseline", list(BASELINES), key="net_ig_baseline", required=True,
                                    format_func=str.capitalize,
                                    help="What the picture is compared with: the path of pictures "
                                         "runs from this baseline to yours.")
    attr, gap = attributions.integrated_gradients(network, x, cls, baseline=baseline, steps=IG_STEPS,
                                                  return_delta=True)
    total = float(attr.sum())
    change = total - gap
    png_image(_signed_picture(attr, size), width="stretch",
              caption=f"Integrated gradients from {BASELINES[baseline]}: red pixels raise the "
                      f"“{class_name}” logit, blue lower it. The map adds up to {total:.3f}; "
                      f"logit(picture) − logit(baseline) = {change:.3f}"
                      + (f" (off by {abs(gap) / abs(change):.2%})." if change else "."))


def occlusion_picture(network, x: np.ndarray, cls: int, class_name: str, size: int) -> None:
    side = min(x.shape[:2])
    a, b = st.columns(2)
    patch = a.select_slider("Square", [2, 3, 4, 6, 8], value=4, key="net_occ_patch",
                            format_func=lambda n: f"{n} × {n}", help="The grey square that hides part "
                            "of the picture.")
    stride = b.select_slider("Step", [1, 2, 3, 4], value=min(2, patch), key="net_occ_stride",
                             help="How far the square moves each time.")
    stride = min(stride, patch)
    if patch > side:
        st.caption("The square is larger than the picture.")
        return
    drop = attributions.occlusion(network, x, cls, patch=patch, stride=stride, fill=0.5)
    png_image(_signed_picture(drop, size), width="stretch",
              caption=f"Occlusion: red where hiding a {patch} × {patch} square lowers the “{class_name}” "
                      f"probability (largest drop {float(drop.max()):.1%}), blue where it raises it. "
                      f"The network ran on {len(windows(x.shape, patch, stride))} "
                      f"covered copies.")


def more_ways(network, x: np.ndarray, cls: int, class_name: str, size: int) -> None:
    """The second row of "why": integrated gradients, occlusion and the reading guide."""
    i1, i2, i3 = st.columns(3)
    with i1:
        integrated_gradients_picture(network, x, cls, class_name, size)
    with i2:
        occlusion_picture(network, x, cls, class_name, size)
    with i3:
        st.markdown(GUIDE)


# ----------------------------------------------------------------------------- one channel

def _grid(pictures: np.ndarray, width: int):
    """Pictures N x H x W x C in [0, 1] as one mosaic with the channel number above each."""
    from PIL import Image, ImageDraw
    n, h, w = pictures.shape[:3]
    cols = min(8, n)
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


def excites_most(loaded, layer: str, channel: int, channels: int) -> None:
    network = loaded.probe
    st.markdown(f"**The picture that excites channel {channel} most**, found by changing a noise "
                "picture step by step to raise the channel's mean (with small random shifts and "
                "blurring so it stays smooth).")
    with st.spinner("Drawing it (once per network and channel)…"):
        pic = attributions.maximise(network, layer, channel)
    png_image(figures.picture_image(pic, share.scaled(260)),
              caption=f"{layer}, channel {channel}: mean value "
                      f"{objective(network, layer, channel, pic):.3f} on this "
                      f"picture (noise: {objective(network, layer, channel, np.full_like(pic, 0.5)):.3f} "
                      "on plain grey)")
    grid_key = f"net_max_grid:{loaded.name}:{layer}"
    shown = min(channels, 16)
    if st.session_state.get(grid_key):
        with st.spinner(f"Drawing {shown} channels…"):
            grid = attributions.maximise_grid(network, layer, list(range(shown)))
        png_image(_grid(grid, share.scaled(520)), caption=f"{layer}: the first {shown} channels, each "
                  "its own most exciting picture")
    else:
        st.button(f"Draw the first {shown} channels of {layer}", key=f"net_max_grid_go:{loaded.name}:{layer}",
                  on_click=lambda: st.session_state.__setitem__(grid_key, True))


def top_test_images(loaded, layer: str, channel: int) -> None:
    card = loaded.card
    st.markdown(f"**The test images that excite channel {channel} most**, each with the patch "
                "under its strongest response (the part of the picture that position sees).")
    if not card.get("dataset"):
        st.caption("This model's file does not say which data it learned from.")
        return
    found = evidence_view.test_set(card["dataset"])
    if found is None:
        return
    run_key = f"net_top_on:{loaded.name}:{layer}"
    if not st.session_state.get(run_key):
        st.button(f"Search the {len(found.y_test):,} test images", key=f"net_top_go:{loaded.name}:{layer}",
                  on_click=lambda: st.session_state.__setitem__(run_key, True),
                  help="Runs the network up to this layer on every test image (once per server).")
        return
    with st.spinner("Running the network up to this layer on the test images…"):
        top = evidence.top_images_for_channel(loaded.model, layer, channel, found.x_test, limit=9)
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
            png_image(img, caption=f"#{t.index} ({label}): {t.score:.2f}")
    st.caption(f"Scores: the channel's largest value in {layer}'s map for that image. "
               f"{images.shape_text(found.x_test.shape[1:3])} test pictures from: {found.description.rstrip('.')}.")


def channel_section(loaded, layers: list[str]) -> None:
    """"What does one channel look for?": a layer and channel, its best picture, its top images."""
    network = loaded.probe
    c1, c2 = st.columns([2, 1])
    layer = c1.selectbox("Layer", layers, index=len(layers) // 2, key=f"net_chan_layer:{loaded.name}",
                         help="Early layers look for colours and edges, later ones for textures and parts.")
    channels = int(network.spec(layer).output_shape[-1])
    channel = int(c2.number_input(f"Channel (0–{channels - 1})", 0, channels - 1, 0,
                                  key=f"net_chan_channel:{loaded.name}:{layer}"))
    left, right = st.columns(2, gap="large")
    with left:
        excites_most(loaded, layer, channel, channels)
    with right:
        top_test_images(loaded, layer, channel)
