"""cnnviz.compat: each reach into a library's internals is checked against the installed library,
and start-up stops with one line when a piece is missing (no browser, no server)."""
from __future__ import annotations

import contextlib
import io
import multiprocessing
import multiprocessing.spawn
import subprocess
import sys
import time
import types
import warnings

import pytest
from PIL import Image
from starlette.staticfiles import StaticFiles

from cnnviz import uploads
from cnnviz.compat import (InternalsChanged, keras_internals, multiprocessing_internals, starlette_internals,
                           streamlit_internals, streamlit_replay)


def test_every_check_passes_quietly_on_the_pinned_versions():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for module in (streamlit_internals, streamlit_replay, starlette_internals, multiprocessing_internals):
            library = module.check()
            assert library.version.split(".")[:2] == module.WRITTEN_FOR.split("."), library


def test_another_version_warns_and_names_both():
    with pytest.warns(RuntimeWarning, match=r"written for streamlit 1\.67, and 1\.70\.0 is installed"):
        streamlit_internals.check(version="1.70.0")


@pytest.mark.parametrize("call, missing", [
    (lambda: streamlit_internals.check(runner=types.ModuleType("script_runner")),
     "script_runner._clean_problem_modules"),
    (lambda: streamlit_internals.check(runtime_class=object), "Runtime._get_async_objs().eventloop"),
    (lambda: starlette_internals.check(static_files=object), "coroutine StaticFiles.get_response"),
    (lambda: multiprocessing_internals.check(get_preparation_data=multiprocessing.spawn.get_command_line),
     "get_preparation_data"),
])
def test_a_missing_piece_is_named_in_one_line(call, missing):
    with pytest.raises(InternalsChanged) as info:
        call()
    message = str(info.value)
    assert missing in message and "\n" not in message and "cnnviz/compat/" in message


def test_a_static_files_method_that_is_no_longer_a_coroutine_is_refused():
    class Synchronous(StaticFiles):
        def get_response(self, path, scope):
            return None

    with pytest.raises(InternalsChanged, match=r"StaticFiles\.get_response\(self, path, scope\)"):
        starlette_internals.check(static_files=Synchronous)


def test_a_frontend_that_no_longer_reads_backend_base_url_is_refused(tmp_path):
    (tmp_path / "static" / "js").mkdir(parents=True)
    (tmp_path / "index.html").write_text('<head><script type="module" crossorigin '
                                         'src="./static/js/index.abc.js"></script></head>')
    (tmp_path / "static" / "js" / "index.abc.js").write_text("const base = window.__streamlit?.SERVER_URL;")
    with pytest.raises(InternalsChanged, match="BACKEND_BASE_URL"):
        streamlit_internals.check(static=str(tmp_path))


def test_start_up_stops_when_streamlit_moved_what_cnnviz_patches():
    code = ("from streamlit.runtime.scriptrunner import script_runner\n"
            "del script_runner._clean_problem_modules\n"
            "import cnnviz.ui.routes\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("cnnviz.compat.InternalsChanged: streamlit 1.67") and "_clean_problem_modules" in last


def test_keras_writes_the_names_cnnviz_accepts_and_names_that_move_are_refused():
    import keras

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert keras_internals.check().version.startswith(keras_internals.WRITTEN_FOR + ".")

    def moved(obj):
        return {**keras.saving.serialize_keras_object(obj), "module": "keras.src.somewhere_else"}

    with pytest.raises(InternalsChanged, match="a functional model .*'keras.src.somewhere_else'"):
        keras_internals.check(serialize=moved)
    assert keras_internals.is_layers_module("keras.src.layers.convolutional.conv2d")
    assert not keras_internals.is_layers_module("keras.src.layersx.conv2d")
    assert not keras_internals.is_layers_module("my_package.layers")
    assert keras_internals.is_family_module("keras.src.initializers.random_initializers", "initializers")
    assert not keras_internals.is_family_module("keras.src.initializers", "regularizers")


def _writes_marker(path):
    return f"import pathlib\npathlib.Path({str(path)!r}).write_text('ran')\n"


@pytest.mark.parametrize("plain", [False, True])
def test_plain_main_keeps_a_spawned_child_from_re_running_the_main_script(tmp_path, plain):
    """Under `streamlit run`, __main__ is app.py; spawn would run it again in the child."""
    marker = tmp_path / "ran"
    script = tmp_path / "app_like.py"
    script.write_text(_writes_marker(marker))
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = main
    try:
        with multiprocessing_internals.plain_main() if plain else contextlib.nullcontext():
            child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0,))
            child.start()
        assert sys.modules["__main__"] is main
    finally:
        sys.modules["__main__"] = saved
    child.join(60)
    assert child.exitcode == 0
    assert marker.exists() is not plain


@pytest.mark.parametrize("options", [dict(subsampling=0), dict(subsampling=1), dict(subsampling=2),
                                     dict(subsampling=2, progressive=True), dict(mode="L"),
                                     dict(mode="CMYK")])
def test_jpeg_sampling_factors_read_from_the_file_agree_with_pillows(options):
    options = dict(options)
    img = Image.new(options.pop("mode", "RGB"), (40, 24))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", **options)
    data = buf.getvalue()
    layers, first_scan = uploads._jpeg_layout(data)
    pillow = Image.open(io.BytesIO(data))
    assert layers == [(h, v) for _, h, v, _ in pillow.layer]    # Pillow's own (undocumented) parse
    if options.get("progressive"):
        assert 1 <= first_scan <= len(layers)
    else:
        assert first_scan == len(layers)      # a baseline JPEG: one scan of every component


def test_in_script_run_is_true_only_on_a_page_run():
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        from cnnviz.compat import streamlit_internals
        st.write(f"in a script run: {streamlit_internals.in_script_run()}")

    at = AppTest.from_function(page).run()
    assert [m.value for m in at.markdown] == ["in a script run: True"]
    assert not streamlit_internals.in_script_run()


def test_this_session_names_the_session_of_a_run():
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        from cnnviz.compat import streamlit_internals
        st.write(f"session: {bool(streamlit_internals.this_session())}")

    at = AppTest.from_function(page).run()
    assert [m.value for m in at.markdown] == ["session: True"]
    assert streamlit_internals.this_session() is None
    assert streamlit_internals.rerun_session("no-such-session") == "no server"   # no server here


def test_lighter_runs_send_the_same_theme_message():
    from streamlit import config
    from streamlit.proto.NewSession_pb2 import CustomThemeConfig
    from streamlit.runtime import app_session

    streamlit_internals.lighter_runs()
    streamlit_internals.lighter_runs()             # once per process: a second call changes nothing
    original = app_session._cnnviz_populate_theme_msg
    assert app_session._populate_theme_msg is not original
    sections = ["theme", *(f"theme.{c.value}" for c in config.CustomThemeCategories)]
    for section in sections:
        want, got, again = CustomThemeConfig(), CustomThemeConfig(), CustomThemeConfig()
        original(want, section)
        app_session._populate_theme_msg(got, section)
        app_session._populate_theme_msg(again, section)
        assert got == want == again, section
    assert CustomThemeConfig() != _filled_theme(original)      # the config's [theme] is in it


def _filled_theme(populate):
    from streamlit.proto.NewSession_pb2 import CustomThemeConfig
    msg = CustomThemeConfig()
    populate(msg, "theme")
    return msg


def test_lighter_runs_clean_texts_as_streamlit_does():
    from streamlit import string_util
    from streamlit.elements import markdown

    streamlit_internals.lighter_runs()
    assert markdown.clean_text is not string_util.clean_text
    for body in ["  a\n    b\n  ", "\n    one\n      two\n", "", 3.5, "x" * (streamlit_internals.CLEANED_CHARS + 10)]:
        assert markdown.clean_text(body) == string_util.clean_text(body)
        assert markdown.clean_text(body) == string_util.clean_text(body)   # the kept one


def _widgets_on_forged_state():
    import streamlit as st

    from cnnviz.compat import streamlit_internals as internals
    internals.lighter_runs()
    if "set" not in st.session_state:
        st.session_state.update(set=True, box=None, level=None, plain=5, kind="b")
    st.selectbox("box", ["a", "b"], key="box")                # None in the state: no choice shown
    st.radio("kind", ["a", "b"], key="kind")
    st.number_input("level", value=3, key="level")            # None: an empty number input
    st.slider("plain", 0, 9, key="plain")
    st.selectbox("fresh", ["a", "b"], key="fresh")
    st.selectbox("keyless", ["a", "b"])


def test_lighter_runs_widgets_read_a_key_as_the_whole_filtered_state_does():
    from streamlit.elements.widgets import selectbox
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_widgets_on_forged_state).run()
    assert not at.exception, at.exception
    assert selectbox.get_session_state is streamlit_internals._state_for_key_lookups
    assert at.selectbox(key="box").value is None and at.number_input(key="level").value is None
    assert at.radio(key="kind").value == "b" and at.slider(key="plain").value == 5
    at.selectbox(key="box").select("a").run()
    assert at.selectbox(key="box").value == "a" and at.selectbox(key="fresh").value == "a"
    safe = at.session_state._state
    whole = safe.filtered_state
    one_key = streamlit_internals._KeyLookups(safe).filtered_state
    for key in [*whole, "fresh", "nope", "set"]:
        assert (key in one_key) == (key in whole), key
        if key in whole:
            assert one_key[key] == whole[key], key
