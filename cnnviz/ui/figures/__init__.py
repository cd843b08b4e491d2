"""Pure figure builders: arrays in, Plotly figures, PIL images or encoded bytes out (no Streamlit;
testable). One submodule for each kind of thing made:

- colours: colour maps, values to RGB colours, the fixed colours of the pictures;
- pictures: single pictures and maps, enlarged crisply or fitted to a size;
- grids: many tiles or cells in one picture (mosaics, colour filters, pixel values);
- marked: pictures with marks drawn on them (crop box, pooling winners, receptive field, chosen cell);
- charts: Plotly charts built from plain dicts (Plotly is imported only when one is built);
- encoding: PNG / JPEG bytes for the browser (and for st.image, as Streamlit sends them untouched).

Callers use the names re-exported here: `from cnnviz.ui import figures; figures.mosaic(...)`.
"""
from cnnviz.ui.figures.charts import (activation_figure, conv1d_figure, feature_map_figure,
                                      gradient_norms_figure, map_heatmap, vector_bars)
from cnnviz.ui.figures.colours import (CHANNEL_COLOURS, PAD_COLOUR, WINDOW_COLOUR,
                                       colorize, colormap_lut, is_light, plotly_scale, sign_colours,
                                       value_range)
from cnnviz.ui.figures.encoding import display_bytes, drawn, encode_picture, for_st_image, image_format, to_png
from cnnviz.ui.figures.grids import mosaic, mosaic_layout, pixel_values_image, rgb_filter_mosaic
from cnnviz.ui.figures.marked import (crop_box_image, marked_map_image, pooling_image,
                                      receptive_field_image)
from cnnviz.ui.figures.pictures import (app_icon, fit_rgb, map_picture, overlay_heat, padded_picture,
                                        picture_image, rgb8, upscale)

__all__ = [
    "CHANNEL_COLOURS", "PAD_COLOUR", "WINDOW_COLOUR", "activation_figure", "app_icon",
    "colorize", "colormap_lut", "conv1d_figure", "crop_box_image", "display_bytes", "drawn", "encode_picture",
    "feature_map_figure", "fit_rgb", "for_st_image", "image_format", "is_light", "gradient_norms_figure", "map_heatmap", "map_picture",
    "marked_map_image", "mosaic", "mosaic_layout", "overlay_heat", "padded_picture", "picture_image", "plotly_scale", "sign_colours",
    "pixel_values_image", "pooling_image", "receptive_field_image", "rgb8", "rgb_filter_mosaic",
    "to_png", "upscale", "value_range", "vector_bars",
]
