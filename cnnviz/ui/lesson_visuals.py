"""The pictures of a lesson question: grids of numbers, feature maps, loss curves (the guided
lesson's page and a question asked to a live class)."""
from __future__ import annotations

import html

import numpy as np
import streamlit as st

from cnnviz import describe
from cnnviz.lesson import question_types, questions
from cnnviz.ui import accessible, figures, palette, share, st_image
from cnnviz.ui.figures import training as training_figures

MAP_SIDE = 168          # px drawn (6 × 28), the picture and each map of the "which kernel" question


def grid_html(grids: question_types.Grids) -> str:
    """Small grids of numbers as HTML tables, cells tinted like the feature maps (red +, blue −)."""
    parts = []
    for g in grids.grids:
        values = np.asarray(g.values, dtype=np.float32)
        top = float(np.abs(values).max()) or 1.0
        colours = figures.colorize(values, "diverging", -1.6 * top, 1.6 * top)   # pale tints
        rows = []
        for r, row in enumerate(g.values):
            cells = []
            for c, v in enumerate(row):
                rgb = colours[r, c]
                classes = []
                if g.block and (c + 1) % g.block == 0 and c + 1 < len(row):
                    classes.append("r")
                if g.block and (r + 1) % g.block == 0 and r + 1 < len(g.values):
                    classes.append("b")
                text = (f"{int(v)}" if float(v).is_integer() else f"{v:.3g}").replace("-", "−")
                cells.append(f'<td class="{" ".join(classes)}" style="background:rgb{tuple(int(x) for x in rgb)}">'
                             f"{text}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        parts.append(f'<figure><table class="cz-grid" aria-label="{html.escape(g.title)}">{"".join(rows)}</table>'
                     f"<figcaption>{html.escape(g.title)}</figcaption></figure>")
    size = 1.35 if share.presenting() else 1.1
    return (f'<div class="cz-grids">{"".join(parts)}</div><style>'
            ".cz-grids { display: flex; flex-wrap: wrap; gap: 2.5rem; align-items: flex-start; }"
            ".cz-grids figure { margin: 0; }"
            f".cz-grid {{ border-collapse: collapse; font-size: {size}rem; font-variant-numeric: tabular-nums; }}"
            ".cz-grid td { border: 1px solid #c4c4cc; width: 2.6em; height: 2.1em; text-align: center; "
            "padding: 0; color: #1f1f29; }"
            ".cz-grid td.r { border-right: 3px solid #31333f; }"
            ".cz-grid td.b { border-bottom: 3px solid #31333f; }"
            ".cz-grids figcaption { font-size: 0.85rem; color: #6b6d7a; margin-top: 0.35rem; }"
            "</style>")


@st.cache_data(show_spinner=False, max_entries=32)
def feature_map_pictures(visual: question_types.FeatureMaps, side: int, scheme: str):
    """The sample and its feature maps as crisp pictures (PNG bytes) with their text alternatives
    (computed once per question and palette scheme: the maps are drawn in `scheme`)."""
    from PIL import Image

    gray, maps = questions.feature_maps(visual)
    picture = figures.to_png(figures.picture_image(gray, side))
    return ((picture, describe.picture(gray, "The picture")),
            [(label, figures.to_png(Image.fromarray(figures.map_picture(values, side)[0])),
              describe.feature_map(values, f"Feature map {label}"))
             for label, values in maps])


def show_visual(q: question_types.Question, key: str) -> None:
    """The question's pictures (grids, feature maps or loss curves); key: unique on the page."""
    visual = q.visual
    if isinstance(visual, question_types.Grids):
        st.html(grid_html(visual))
    elif isinstance(visual, question_types.FeatureMaps):
        (picture, alt), maps = feature_map_pictures(visual, share.scaled(MAP_SIDE), palette.chosen())
        columns = st.columns(len(maps) + 1, gap="medium")     # one row, whatever the width
        st_image.show(picture, where=columns[0], caption="the picture", width="stretch", alt=alt)
        for column, (label, png, map_alt) in zip(columns[1:], maps):
            st_image.show(png, where=column, caption=label, width="stretch", alt=map_alt)
    elif isinstance(visual, question_types.Curves):
        st.markdown(":blue[**―** training loss] &nbsp; :red[**―** validation loss]")
        top = max(max(run.train + run.validation) for run in visual.runs)
        columns = st.columns(len(visual.runs), gap="medium")
        for column, run in zip(columns, visual.runs):
            epochs = list(range(1, len(run.train) + 1))
            fig = training_figures.compare_curves(
                {"training": (epochs, run.train), "validation": (epochs, run.validation)}, "loss",
                height=share.scaled(230))
            fig.update_layout(showlegend=False, xaxis_title_text="epoch",
                              yaxis_range=[0, 1.05 * top], margin={"l": 10, "r": 10, "t": 10, "b": 10})
            with column:
                st.markdown(f"**{run.label}**")
                st.plotly_chart(fig, config={"displaylogo": False, "displayModeBar": False},
                                key=f"{key}_curve_{run.label}",
                                alt=describe.curve(run.train, f"{run.label}: training loss", epochs, "epoch") + " "
                                + describe.curve(run.validation, "Validation loss", epochs, "epoch"))
                accessible.chart_numbers(f"{run.label}: the losses", "epoch", {
                    "training loss": (epochs, run.train), "validation loss": (epochs, run.validation)})
