"""The web page end to end in a real headless browser (Debian's chromium + chromium-driver,
driven by selenium): load the page, start a job on a tiny image, see frames arrive, download
the PNG.  Skips where no browser is installed.  With UNTRAINED_SCREENSHOT=PATH it also saves a
screenshot there (the README's docs/images/serve.png)."""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

webdriver = pytest.importorskip("selenium.webdriver")
uvicorn = pytest.importorskip("uvicorn")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from untrained.io import read_config  # noqa: E402
from untrained.web import create_app  # noqa: E402

from conftest import ROOT  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no chromium and chromedriver installed "
                                "(apt-get install chromium chromium-driver)")


@pytest.fixture
def server(tmp_path):
    """The app on a free local port, served by uvicorn in a thread."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(tmp_path / "jobs", frame_every=2), host="127.0.0.1", port=port,
                                       log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1200,760", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    except Exception as exc:  # a broken install is not this project's failure
        pytest.skip(f"chromium would not start: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


def test_page_runs_a_job_shows_frames_and_downloads_the_png(server, browser, tmp_path):
    browser.get(server)
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "file-exemplar"))
    Select(browser.find_element(By.ID, "command")).select_by_value("texture")
    browser.find_element(By.ID, "file-exemplar").send_keys(str(ROOT / "examples" / "water.jpg"))
    for field, value in (("size", "96"), ("iterations", "3"), ("scales", "2")):
        browser.find_element(By.ID, field).send_keys(value)
    browser.find_element(By.ID, "start").click()
    frames = lambda d: int(d.find_element(By.ID, "frame").get_attribute("data-frames") or 0)  # noqa: E731
    WebDriverWait(browser, 120).until(lambda d: frames(d) >= 2)  # live frames arrive while it runs
    link = WebDriverWait(browser, 300).until(lambda d: d.find_element(By.ID, "download") if
                                             d.find_element(By.ID, "download").is_displayed() else None)
    assert "done" in browser.find_element(By.ID, "status").text
    points = browser.find_element(By.ID, "line").get_attribute("points")
    assert len(points.split()) >= 2  # the loss curve is drawn
    if os.environ.get("UNTRAINED_SCREENSHOT"):
        browser.save_screenshot(os.environ["UNTRAINED_SCREENSHOT"])
    link.click()
    deadline = time.time() + 30
    while time.time() < deadline and not list(browser.downloads.glob("*.png")):
        time.sleep(0.1)
    (png,) = browser.downloads.glob("*.png")
    config = read_config(png)
    assert config["task"] == "texture" and config["size"] == [96, 96]
