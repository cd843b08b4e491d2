"""Open your own .keras model in the network explorer (only when cnnviz runs with CNNVIZ_MODE=local).

    from cnnviz.ui.own_model import own_model_picker
    own = own_model_picker()          # a model_cache.Loaded, or None
    loaded = own or model_cache.load(name)

In public mode (the default) this shows at most one caption and never reads an uploaded file
as a model. In local mode the file is checked as data first (cnnviz.model_files), then loaded
in safe mode. The model lives in this session's st.session_state only (never in a cache shared
with other sessions); a refused file shows one st.error line and the model opened before stays.
Importing this module does not import TensorFlow.
"""
from __future__ import annotations

import streamlit as st

from cnnviz import settings
from cnnviz.ui import preload
from cnnviz.ui.plain_text import plain

UPLOADER_KEY = "own_model_file"
STATE_KEY = "_own_model"

CAPTION = ("Open a model you trained yourself with Keras 3 (saved with `model.save('my_model.keras')`, "
           "up to {mb} MB). cnnviz first reads the file as plain data and checks it: only Keras's own "
           "layers (convolution, pooling, normalisation, activations, dropout, flatten, dense, ...) and "
           "built-in activations; no Lambda layers and no custom code. Only then is it loaded, in "
           "Keras's safe mode. The explorer needs one picture input (height × width × 1 or 3) and one "
           "output of class scores.")
PUBLIC_CAPTION = ("Opening your own model file is switched off on this public demo. On your own "
                  "computer, start cnnviz with `CNNVIZ_MODE=local` to explore a model you trained.")


def _state() -> dict:
    return st.session_state.setdefault(
        STATE_KEY, {"file_id": None, "loaded": None, "refused_id": None, "error": None})


def own_model_picker(show_public_note: bool = True):
    """An uploader for your own .keras model (local mode); the opened model or None.

    Returns a cnnviz.ui.model_cache.Loaded (model, probe, card) for this session, or None when
    no model of your own is open (public mode, nothing uploaded, or the uploader was cleared).
    """
    try:
        public = settings.is_public()
    except settings.SettingsError as e:
        st.error(plain(str(e)))
        return None
    if public:
        if show_public_note:
            st.caption(PUBLIC_CAPTION)
        return None

    from cnnviz import model_files  # light: no TensorFlow until a file has passed the checks

    mb = model_files.MAX_FILE_BYTES // model_files.MB
    upload = st.file_uploader("Your own model (.keras)", type=["keras"], key=UPLOADER_KEY,
                              max_upload_size=mb,
                              help="A Keras 3 model file. It stays in this browser session only.")
    st.caption(CAPTION.format(mb=mb))
    state = _state()
    if upload is None:
        state.update(file_id=None, loaded=None, refused_id=None, error=None)
        return None
    file_id = upload.file_id
    if file_id not in (state["file_id"], state["refused_id"]):
        try:
            with st.spinner("Checking your model file, then loading it…"):
                preload.import_tensorflow()
                model = model_files.load_keras_file(upload.getvalue(), upload.name)
                from cnnviz.ui import model_cache
                loaded = model_cache.load_own(model, "own:" + model_files.safe_name(upload.name))
        except model_files.ModelFileError as e:
            state.update(refused_id=file_id, error=str(e))
        except Exception as e:  # a model that passed the checks but that the explorer cannot probe
            state.update(refused_id=file_id,
                         error=f"the explorer cannot look inside this model ({model_files._plain(e)}). "
                               f"{model_files.ACCEPT_SHAPE}")
        else:
            state.update(file_id=file_id, loaded=loaded, refused_id=None, error=None)
    if state["refused_id"] == file_id and state["error"]:
        kept = " The model opened before is still used." if state["loaded"] is not None else ""
        st.error(plain(f"Your model was not opened: {state['error']}{kept}"))
    elif state["loaded"] is not None:
        m = state["loaded"].model
        st.caption(plain(f"Opened {upload.name[:60]}: {len(m.layers)} layers, "
                              f"{m.count_params():,} parameters."))
    return state["loaded"]
