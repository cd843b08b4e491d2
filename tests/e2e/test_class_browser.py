"""A live class in real Chromium: a teacher and three students (one on a phone, 390 x 844) on
one server. Join by code and by link, follow the teacher's page and settings, look around and
come back, answer a question while the teacher's histogram counts, send a drawing and see it in
the teacher's gallery with the network's answer; axe on the class page for teacher and student.
A photo for the gallery goes through st.camera_input with Chromium's fake camera showing a 7.

How long following takes is printed (the speed goal is measured by benchmarks/bench_class.py,
not asserted here); the waits below only bound a test that would otherwise hang. That the server
wakes a following student's page (cnnviz/ui/class_follow.py), rather than the page's own timer,
is checked from the websocket: the student's browser asked for no look while following.
"""
from __future__ import annotations

import re
import time

import pytest

from a11y_checks import axe_problems
from conftest import ROOT, main_text, screenshot, settle, wait_for_app
from redis_server import redis_url  # noqa: F401 (a fixture)
from streamlit.proto.BackMsg_pb2 import BackMsg
from test_share_browser import _set_slider

OUTPUT_SIZE = re.compile(r"Input \d+ × \d+ → kernel \d+ × \d+ → output \**\d+ × \d+")

pytestmark = pytest.mark.browser

FOLLOW_WAIT = 20_000          # ms: far above the 0.5 s watch, for a busy 2-core machine
SEVEN = [[(0.2, 0.15), (0.8, 0.15), (0.4, 0.9)]]   # a 7: the top bar, then down to the left


def main(page):
    return page.locator("[data-testid=stMain]")


def join(page, url: str, code: str, nickname: str, by_link: bool) -> None:
    page.goto(f"{url}/class?room={code}" if by_link else f"{url}/class")
    settle(page)
    if not by_link:
        page.get_by_role("textbox", name="Class code").fill(code.lower())
    page.get_by_role("textbox", name="Nickname").fill(nickname)
    page.get_by_role("button", name="Join").click()
    page.get_by_text("Following the teacher").wait_for(timeout=60_000)
    page.wait_for_url(re.compile(f"room={code}&seat="), timeout=10_000)


def record_fragment_requests(page) -> list[float]:
    """When the page's browser asks the server to rerun a fragment (st.fragment's run_every timer),
    appended as it happens."""
    asked: list[float] = []

    def sent(payload) -> None:
        if isinstance(payload, (bytes, bytearray)):
            msg = BackMsg()
            msg.ParseFromString(bytes(payload))
            if msg.WhichOneof("type") == "rerun_script" and msg.rerun_script.fragment_id:
                asked.append(time.perf_counter())
    page.on("websocket", lambda ws: ws.on("framesent", sent))
    return asked


def followed(students, pattern: str, since: float) -> list[float]:
    """Wait until every student's address matches; seconds each took from `since`."""
    took = []
    for page in students:
        page.wait_for_url(re.compile(pattern), timeout=FOLLOW_WAIT)
        took.append(time.perf_counter() - since)
    return took


def nav(page, title: str) -> None:
    page.locator("[data-testid=stSidebarNav]").get_by_role("link", name=title, exact=True).click()
    settle(page)


def choose(page, label: str, option: str) -> None:
    """A select box's option; tried again when a fragment's rerun closed the list first."""
    box = main(page).locator("[data-testid=stSelectbox]").filter(has_text=label)
    for _ in range(5):
        box.click()
        try:
            page.get_by_role("option", name=option, exact=True).click(timeout=3_000)
            return
        except Exception:
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option} in {label}")


def draw(page, strokes) -> None:
    canvas = page.locator("canvas.upper-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    for stroke in strokes:
        points = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in stroke]
        page.mouse.move(*points[0])
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for i in range(1, 21):
                page.mouse.move(x0 + (x1 - x0) * i / 20, y0 + (y1 - y0) * i / 20)
        page.mouse.up()


def test_a_teacher_and_three_students(app_url, browser):
    desk = {"viewport": {"width": 1400, "height": 1400}}
    phone = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
             "device_scale_factor": 2}
    contexts = [browser.new_context(**desk) for _ in range(3)] + [browser.new_context(**phone)]
    contexts[1].grant_permissions(["clipboard-read", "clipboard-write"])    # Ana copies a link
    teacher, ana, bo, pat = (c.new_page() for c in contexts)
    students = [ana, bo, pat]
    asked = {page: record_fragment_requests(page) for page in students}
    try:
        teacher.goto(f"{app_url}/class")
        settle(teacher)
        teacher.get_by_role("button", name="Start a class").click()
        code = teacher.locator(".cz-code").inner_text(timeout=30_000).strip()
        assert re.fullmatch(r"[A-HJKMNP-Z2-9]{6}", code)
        teacher.wait_for_url(re.compile(f"room={code}&key="), timeout=10_000)
        qr = teacher.get_by_role("img", name="QR code of the join link")
        assert qr.count() == 1 and qr.get_attribute("alt").endswith(f"/class?room={code}")

        join(ana, app_url, code, "Ana", by_link=False)
        join(bo, app_url, code, "Bo", by_link=True)
        join(pat, app_url, code, "Pat", by_link=False)
        main(teacher).get_by_text(re.compile(r"3\s*joined · 3\s*following")).wait_for(timeout=15_000)
        main(teacher).get_by_text("Ana, Bo, Pat").wait_for(timeout=15_000)     # by nickname

        assert axe_problems(teacher) == []
        assert axe_problems(pat) == []
        screenshot(teacher, "class-teacher")
        screenshot(pat, "class-student-phone")

        # follow a page change, then a setting
        start = time.perf_counter()
        nav(teacher, "Convolution")
        page_took = followed(students, r"/convolution\?", start)
        settle(teacher)
        start = time.perf_counter()
        _set_slider(teacher, "Stride", 2)
        setting_took = followed(students, r"stride=2", start)
        woken = [not any(start <= t <= start + took for t in asked[page]) for page, took in zip(students, setting_took)]
        assert sum(woken) >= 2, f"the students' own timers brought the change: {woken}"   # one may tick by chance
        print(f"\nfollowing: page change {', '.join(f'{t:.1f}' for t in page_took)} s; "
              f"stride {', '.join(f'{t:.1f}' for t in setting_took)} s (from the teacher's action, "
              "including the teacher's own rerun; Ana, Bo, Pat)")
        for page in students:
            assert "key=" not in page.url and "seat=" in page.url and "follow=" not in page.url
        for page in (teacher, *students):   # the later followers were sent the first one's render
            settle(page)
        shapes = {page: OUTPUT_SIZE.search(main_text(page)) for page in (teacher, *students)}
        assert all(shapes.values()) and len({m.group(0) for m in shapes.values()}) == 1, shapes
        screenshot(bo, "class-student-following")
        ana.locator("#cz-copy").click()                 # a copied link keeps the view, not the seat
        ana.wait_for_function("document.querySelector('#cz-copy').innerText.includes('copied')", timeout=15_000)
        copied = ana.evaluate("navigator.clipboard.readText()")
        assert "stride=2" in copied and f"room={code}" in copied and "seat=" not in copied, copied

        # look around and come back
        ana.get_by_role("button", name="Look around").click()
        ana.get_by_role("button", name="Back to the teacher").wait_for(timeout=15_000)
        _set_slider(teacher, "Stride", 3)
        followed([bo, pat], r"stride=3", time.perf_counter())
        ana.wait_for_timeout(1500)
        assert "stride=2" in ana.url
        main(teacher).get_by_text(re.compile(r"3\s*joined · 2\s*following")).wait_for(timeout=15_000)
        ana.get_by_role("button", name="Back to the teacher").click()
        followed([ana], r"stride=3", time.perf_counter())
        ana.get_by_text("Following the teacher").wait_for(timeout=15_000)

        # a question: answers counted live on the teacher's page
        nav(teacher, "A live class")
        followed(students, r"/class\?", time.perf_counter())
        teacher.get_by_role("button", name="Ask the class").click()
        for page in students:
            main(page).get_by_text("Your answer").wait_for(timeout=FOLLOW_WAIT)
        group = main(ana).locator("[data-testid=stRadio]").filter(has_text="Your answer")
        choices = [c.strip() for c in group.locator("label").all_inner_texts() if c.strip() and c.strip() != "Your answer"]
        assert len(choices) == 4, choices
        picks = {ana: choices[0], bo: choices[0], pat: choices[1]}
        for page, choice in picks.items():
            main(page).locator("[data-testid=stRadio]").filter(has_text="Your answer").get_by_text(
                choice, exact=True).click()
            main(page).get_by_text(f"Sent: {choice}").wait_for(timeout=15_000)
        histogram = main(teacher).locator(".cz-histogram")
        main(teacher).get_by_text(re.compile(r"3\s*of 3 answered")).wait_for(timeout=15_000)
        counts = dict(zip(histogram.locator(".cz-choice").all_inner_texts(),
                          histogram.locator(".cz-count").all_inner_texts()))
        assert counts[choices[0]].startswith("2 (") and counts[choices[1]].startswith("1 ("), counts
        screenshot(teacher, "class-teacher-question")
        teacher.get_by_role("button", name="Reveal the answer").first.click()
        main(teacher).get_by_text("The answer is").wait_for(timeout=15_000)
        for page in students:
            main(page).get_by_text(re.compile(r"Right:|The answer is")).first.wait_for(timeout=FOLLOW_WAIT)

        # the gallery: the teacher asks for a 7, Pat draws one on the phone
        choose(teacher, "Ask everyone to draw", "7")
        main(pat).get_by_text("The teacher asks for a 7").wait_for(timeout=FOLLOW_WAIT)
        wait_for_app(pat)
        draw(pat, SEVEN)
        pat.wait_for_timeout(1500)
        wait_for_app(pat)
        pat.get_by_role("button", name="Send to the class").click()
        main(pat).get_by_text("Sent your 7").wait_for(timeout=15_000)
        screenshot(pat, "class-student-phone-sent")
        card = main(teacher).get_by_text(re.compile(r"network: \S+"))
        card.first.wait_for(timeout=120_000)          # the first drawing loads TensorFlow and the network
        text = main(teacher).inner_text()
        assert re.search(r"Pat · drew 7\s*network: \d [✓✗]", text), text[-800:]
        assert "drawn \\ predicted" in text
        screenshot(teacher, "class-teacher-gallery")

        teacher.locator("[data-testid=stCheckbox]").filter(has_text="Present").locator("label").click()
        settle(teacher)
        screenshot(teacher, "class-teacher-presenting")

        # one drawing opened in the network explorer, for everyone who follows
        main(teacher).get_by_role("button", name="Explore", exact=True).first.click()
        teacher.wait_for_function(   # page.url misses a page switched from a fragment
            "() => /\\/network\\?.*drawing=/.test(location.href)", timeout=60_000)
        followed(students, r"/network\?.*drawing=", time.perf_counter())
        # four sessions run the explorer, its heaviest page, at once on a small machine: wait long
        pat.get_by_text("Prediction:").first.wait_for(timeout=300_000)
        assert "class drawing by Pat" in pat.locator("[data-testid=stSidebar]").inner_text()
        screenshot(pat, "class-student-phone-explorer")
        assert teacher.locator("[data-testid=stException]").count() == 0
        for page in students:
            assert page.locator("[data-testid=stException]").count() == 0
    finally:
        for c in contexts:
            c.close()


@pytest.fixture(scope="module")
def two_processes(redis_url):
    """Two app processes sharing one real redis-server, as behind the balancer."""
    import os

    from conftest import start_streamlit
    before = os.environ.get("CNNVIZ_REDIS_URL")
    os.environ["CNNVIZ_REDIS_URL"] = redis_url
    started = []
    try:
        started = [start_streamlit(ROOT / "app.py") for _ in range(2)]
    finally:
        if before is None:
            os.environ.pop("CNNVIZ_REDIS_URL")
        else:
            os.environ["CNNVIZ_REDIS_URL"] = before
    yield [url for _, url in started]
    for proc, _ in started:
        proc.terminate()
        proc.wait(10)


def test_a_class_across_two_processes_with_redis(two_processes, browser):
    """The teacher on one process, a student on the other: the room, the view and the answers
    travel through Redis."""
    teacher_url, student_url = two_processes
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1400}) for _ in range(2)]
    teacher, ana = (c.new_page() for c in contexts)
    try:
        teacher.goto(f"{teacher_url}/class")
        settle(teacher)
        teacher.get_by_role("button", name="Start a class").click()
        code = teacher.locator(".cz-code").inner_text(timeout=30_000).strip()
        join(ana, student_url, code, "Ana", by_link=False)
        main(teacher).get_by_text("Ana").first.wait_for(timeout=15_000)
        nav(teacher, "Pooling & dropout")
        followed([ana], r"/pooling\?", time.perf_counter())
        nav(teacher, "A live class")
        followed([ana], r"/class\?", time.perf_counter())
        teacher.get_by_role("button", name="Ask the class").click()
        group = main(ana).locator("[data-testid=stRadio]").filter(has_text="Your answer")
        group.wait_for(timeout=FOLLOW_WAIT)
        first = [c.strip() for c in group.locator("label").all_inner_texts() if c.strip() and c.strip() != "Your answer"][0]
        group.get_by_text(first, exact=True).click()
        main(teacher).get_by_text(re.compile(r"1\s*of 1 answered")).wait_for(timeout=15_000)
        histogram = main(teacher).locator(".cz-histogram")
        counts = dict(zip(histogram.locator(".cz-choice").all_inner_texts(),
                          histogram.locator(".cz-count").all_inner_texts()))
        assert counts[first].startswith("1 ("), counts
    finally:
        for c in contexts:
            c.close()


def fake_camera_video(path, digit: str = "mnist-7", size: tuple[int, int] = (640, 480)) -> None:
    """A one-frame Y4M video that Chromium's fake camera shows: the sample digit, large and
    centred, as a student would hold a digit written on paper up to the camera."""
    import numpy as np
    from PIL import Image

    from cnnviz import samples
    width, height = size
    digit_px = (np.asarray(samples.load_sample(digit).pixels) * 255).astype(np.uint8)
    frame = Image.new("L", size, 0)
    side = height * 3 // 4
    frame.paste(Image.fromarray(digit_px).resize((side, side)), ((width - side) // 2, (height - side) // 2))
    luma = np.asarray(frame, dtype=np.uint8)
    chroma = np.full((height // 2, width // 2), 128, dtype=np.uint8)
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        f.write(b"FRAME\n" + luma.tobytes() + chroma.tobytes() + chroma.tobytes())


def test_a_student_photographs_a_digit_for_the_gallery(app_url, browser, tmp_path):
    """The photo path of the gallery with a real camera stream (Chromium's fake camera shows a 7):
    the student takes the photo in st.camera_input, sends it, and the teacher's gallery shows it
    with the network's answer."""
    from conftest import CHROMIUM, CHROMIUM_ARGS

    video = tmp_path / "seven.y4m"
    fake_camera_video(video)
    camera = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
              f"--use-file-for-fake-video-capture={video}"]
    # a Chromium of its own (the camera is a launch option), from the session's Playwright: a
    # second sync_playwright() in this thread would fail while the session's browser runs
    with browser.browser_type.launch(executable_path=CHROMIUM, headless=True,
                                     args=CHROMIUM_ARGS + camera) as camera_browser:
        teacher = camera_browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
        student = camera_browser.new_context(viewport={"width": 1000, "height": 1400},
                                             permissions=["camera"]).new_page()
        teacher.goto(f"{app_url}/class")
        settle(teacher)
        teacher.get_by_role("button", name="Start a class").click()
        code_line = main(teacher).locator(".cz-code")
        code_line.wait_for(timeout=60_000)
        join(student, app_url, code_line.inner_text().strip(), "Cam", by_link=True)
        choose(teacher, "Ask everyone to draw", "7")
        main(student).get_by_text("The teacher asks for a 7").wait_for(timeout=FOLLOW_WAIT)
        wait_for_app(student)
        main(student).locator("[data-testid=stButtonGroup]").get_by_role("radio", name="Photo").click()
        settle(student)
        student.get_by_role("button", name="Take Photo").click(timeout=30_000)
        settle(student)
        student.get_by_role("button", name="Send to the class").click()
        main(student).get_by_text("Sent your 7").wait_for(timeout=15_000)
        screenshot(student, "class-student-camera-sent")
        main(teacher).get_by_text(re.compile(r"network: \S+")).first.wait_for(timeout=120_000)
        text = main(teacher).inner_text()
        assert re.search(r"Cam · drew 7\s*network: \d [✓✗]", text), text[-800:]
        assert re.search(r"read \d of 1 drawing", text), text[-800:]
        for page in (teacher, student):
            assert page.locator("[data-testid=stException]").count() == 0
