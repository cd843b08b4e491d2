"""A layer whose output is a stack of maps: every channel as one mosaic, and the chosen channel
large with its numbers on hover."""
from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import describe, work_budget
from cnnviz.ui import accessible, export, figures, share
from cnnviz.ui.layer_views.common import CONFIG, ShownLayer, png_image


def map_cmap(out: np.ndarray) -> str:
    return "diverging" if float(out.min()) < 0 else "viridis"


def fitted_mosaic(maps: np.ndarray, width: int, **options):
    """figures.mosaic of H x W x C maps, block-averaged first when their tiles side by side would
    be wider than `width` (a large input's maps); (picture, a sentence saying so or "")."""
    h, w, c = maps.shape
    k = work_budget.shrink_factor(h, w, figures.mosaic_layout(c)[1], width)
    note = (f" Each map drawn at 1/{k} of its {h} × {w} size (every {k} × {k} block averaged) "
            "to fit the page." if k > 1 else "")
    return figures.mosaic(work_budget.shrink(maps, k), width=width, **options), note


def mosaic_view(layer: ShownLayer) -> None:
    """Every channel of the layer as one image, with downloads of the picture and the maps."""
    act, scale, ch = layer.act, layer.scale, layer.channel
    out = act.output
    c = out.shape[-1]
    cmap = map_cmap(out)
    picture, note = fitted_mosaic(out, share.scaled(640 if c > 3 else 420), scale=scale, cmap=cmap,
                                  highlight=ch if c > 1 else None, labels=c > 1)
    negative, positive = figures.sign_colours()
    png_image(picture,
              caption=(f"All {c} channels, " if c > 1 else "The only channel, ")
                      + ("one colour scale for the layer" if scale == "layer" else "each map on its own scale")
                      + (f"; orange frame: channel {ch}" if c > 1 else "")
                      + (f". {negative.capitalize()} < 0 < {positive}, white = 0." if cmap == "diverging"
                         else ". Dark = 0, yellow = largest.") + note,
              alt=describe.stack(out, f"The output of layer {act.name}", "channel")
              + " " + describe.feature_map(out[..., ch], f"Channel {ch}"))
    stem = export.file_stem(layer.network_label, act.name)
    with share.secondary("net_export"), st.container(horizontal=True, gap="small"):
        export.download("This picture (PNG)", lambda: export.png(picture), f"{stem}-mosaic.png",
                        export.PNG, "net_export_mosaic")
        export.download(f"All {c} maps (ZIP: PNGs + .npy)",
                        lambda: export.feature_maps_zip(out, stem, cmap, scale), f"{stem}-maps.zip",
                        export.ZIP, "net_export_zip")


def channel_view(layer: ShownLayer) -> None:
    """The chosen channel as a heatmap with its numbers on hover."""
    out, ch = layer.act.output, layer.channel
    cmap = map_cmap(out)
    zmin = zmax = None
    if layer.scale == "layer":
        lo, hi = figures.value_range(out, cmap)
        zmin, zmax = float(lo), float(hi)
    st.plotly_chart(figures.map_heatmap(out[..., ch], f"channel {ch} (hover for values)", cmap,
                                        zmin, zmax, height=340),
                    config=CONFIG, key="net_map_heat",
                    alt=describe.feature_map(out[..., ch], f"Feature map of channel {ch} of {layer.act.name}"))
    m = out[..., ch]
    accessible.as_numbers(m, f"Channel {ch} of {layer.act.name}")
    st.caption(f"min {m.min():.3f} · max {m.max():.3f} · mean {m.mean():.3f} · "
               f"{np.mean(m == 0):.0%} zeros")
